"""The `seval` command line. Errors a user can fix are printed as one line, never a traceback."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from seval import __version__
from seval.errors import SevalError

app = typer.Typer(
    name="seval",
    help="Automated, comprehensive safety evaluation of LLMs (S-Eval).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from seval.cli.attack import attack_app
    from seval.cli.critic import critic_app, critique
    from seval.cli.data import data_app
    from seval.cli.defend import defend_app
    from seval.cli.generate import generate_app
    from seval.cli.report import compare, report
    from seval.cli.run import run
    from seval.cli.runs import runs_app
    from seval.cli.select import select
    from seval.cli.taxonomy import taxonomy

    app.command("run")(run)
    app.command("critique")(critique)
    app.command("taxonomy")(taxonomy)
    app.command("report")(report)
    app.command("compare")(compare)
    app.command("select")(select)
    app.add_typer(data_app, name="data")
    app.add_typer(attack_app, name="attack")
    app.add_typer(runs_app, name="runs")
    app.add_typer(critic_app, name="critic")
    app.add_typer(defend_app, name="defend")
    app.add_typer(generate_app, name="generate")


@app.command("version")
def version() -> None:
    """Print seval's version."""
    print(__version__)


_register()


def main() -> None:
    try:
        app()
    except SevalError as exc:
        Console(stderr=True).print(f"[bold red]error:[/bold red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted: finished work is saved; re-run the same command to resume")
        sys.exit(130)


if __name__ == "__main__":
    main()
