"""`seval attack list|apply`: see the adversarial instruction attacks, or derive attack prompts from a suite.

Errors a user can fix are raised as SevalError and printed as one line by the main app.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

attack_app = typer.Typer(
    help="Adversarial instruction attacks: list them, or derive attack prompts from a suite.",
    no_args_is_help=True,
)


@attack_app.command("list")
def list_cmd() -> None:
    """List the registered attacks (built-in and from installed plugins)."""
    from seval.attacks import load_attacks

    table = Table(title="attacks")
    table.add_column("name")
    table.add_column("description")
    table.add_column("languages")
    table.add_column("needs rewriter")
    table.add_column("variants")
    for attack in load_attacks("all"):
        table.add_row(
            attack.name,
            attack.description,
            ",".join(attack.languages),
            "yes" if attack.needs_rewriter else "no",
            ", ".join(attack.variants),
        )
    Console().print(table)


@attack_app.command("apply")
def apply_cmd(
    suite: Annotated[Path, typer.Option("--suite", "-s", help="Suite file (JSONL) of base prompts.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Suite file to write the derived prompts to.")],
    attacks: Annotated[
        str, typer.Option("--attacks", "-a", help="'all' or a comma-separated list of attack names.")
    ] = "all",
    seed: Annotated[int, typer.Option("--seed", help="Seed of variant choices (reproducible).")] = 0,
    rewriter: Annotated[
        str | None,
        typer.Option(
            "--rewriter",
            help="Model spec of the rewriter for attacks that adapt the request (e.g. openai:gpt-4o-mini); "
            "without it every attack uses its deterministic form.",
        ),
    ] = None,
    include_base: Annotated[
        bool, typer.Option("--include-base", help="Also write the base prompts, before the derived ones.")
    ] = False,
) -> None:
    """Derive one prompt per (base prompt, attack) and write them as a suite file."""
    from seval.attacks import apply_attacks, apply_attacks_async, load_attacks
    from seval.data.suite_io import read_suite, write_suite
    from seval.records import TestCase

    console = Console()
    chosen = load_attacks(attacks)
    base = [c for c in read_suite(suite) if c.attack is None]
    if rewriter is None:
        derived = apply_attacks(base, chosen, seed=seed)
    else:
        from seval.models import load_model

        model = load_model(rewriter)

        async def run() -> list[TestCase]:
            try:
                return await apply_attacks_async(base, chosen, seed=seed, rewriter=model)
            finally:
                await model.aclose()

        derived = asyncio.run(run())
    written = write_suite([*base, *derived] if include_base else derived, out)
    console.print(
        f"wrote {written} test cases to {out} ({len(derived)} derived from {len(base)} base prompts)",
        highlight=False,
        soft_wrap=True,
    )
    counts = Counter((c.attack or "", c.lang) for c in derived)
    forms = Counter((c.attack or "", str(c.meta.get("attack_form", ""))) for c in derived)
    langs = sorted({lang for _, lang in counts})
    table = Table(title="derived prompts by attack")
    table.add_column("attack")
    for lang in langs:
        table.add_column(lang, justify="right")
    table.add_column("template", justify="right")
    table.add_column("rewriter", justify="right")
    table.add_column("fallback", justify="right")
    for attack in chosen:
        table.add_row(
            attack.name,
            *(str(counts.get((attack.name, lang), 0)) for lang in langs),
            *(str(forms.get((attack.name, f), 0)) for f in ("template", "rewriter", "fallback")),
        )
    console.print(table)
