"""`seval runs list|show|export`: look at stored runs without re-running anything."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.table import Table

from seval import defaults
from seval.cli.render import render_summary
from seval.engine.critique import pick_critic
from seval.engine.export import export_run
from seval.engine.store import RunStore
from seval.errors import SevalError
from seval.metrics.summary import summarize_store
from seval.taxonomy import load_taxonomy

runs_app = typer.Typer(help="List, inspect and export stored runs.", no_args_is_help=True)


def resolve_run(run: str, runs_dir: Path | None) -> Path:
    runs_dir = runs_dir or defaults.RUNS_DIR
    for cand in (Path(run), runs_dir / run):
        if (cand / RunStore.FILENAME).is_file():
            return cand
    raise SevalError(f"no run '{run}' (looked for {run}/ and {runs_dir / run}/ with a {RunStore.FILENAME})")


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "-"


@runs_app.command("list")
def list_runs(
    runs_dir: Path | None = typer.Option(None, "--dir", help="folder that holds runs (default: seval-runs)"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Runs under --dir, newest first."""
    runs_dir = runs_dir or defaults.RUNS_DIR
    rows = []
    if runs_dir.is_dir():
        for d in sorted(runs_dir.iterdir()):
            if not (d / RunStore.FILENAME).is_file():
                continue
            with RunStore.open_dir(d) as store:
                counts = store.count_responses()
                rows.append(
                    {
                        "run": d.name,
                        "path": str(d),
                        "created_at": store.get_meta("created_at"),
                        "updated_at": store.get_meta("updated_at"),
                        "targets": sorted(store.targets()),
                        "tests": store.db.execute("SELECT COUNT(*) FROM tests").fetchone()[0],
                        "responses": counts["ok"],
                        "errors": counts["error"],
                        "critics": store.critic_ids(),
                    }
                )
    rows.sort(key=lambda r: r["updated_at"] or 0, reverse=True)
    if json_out:
        print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title=f"runs in {runs_dir}")
    table.add_column("run", no_wrap=True)
    table.add_column("updated", no_wrap=True)
    table.add_column("targets", overflow="fold")
    for col in ("tests", "responses", "errors", "critics"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["run"],
            _when(r["updated_at"]),
            "\n".join(r["targets"]),
            str(r["tests"]),
            str(r["responses"]),
            str(r["errors"]),
            "\n".join(c.split("@")[0] for c in r["critics"]),
        )
    Console().print(table)


def print_run_summary(console: Console, path: Path, critic: str | None = None) -> None:
    """What `runs show` prints: metadata, then the safety summary by one critic (see `pick_critic`).

    Verdicts of several critics coexist in one store, so the summary names the critic it uses and,
    when there are others, how to pick one of them.
    """
    with RunStore.open_dir(path) as store:
        meta = store.meta()
        critics = store.critic_ids()
        counts = store.count_responses()
        console.print(f"[bold]run[/bold] {meta.get('run_id', path.name)}  ({path})")
        console.print(
            f"created {_when(meta.get('created_at'))}, updated {_when(meta.get('updated_at'))}, "
            f"seval {meta.get('seval_version')}, taxonomy {meta.get('taxonomy_version')}"
        )
        for tid, info in store.targets().items():
            console.print(f"target {tid}: {orjson.dumps(info).decode()}")
        console.print(
            f"responses: {counts['ok']} ok, {counts['error']} errors; critics: {', '.join(critics) or 'none'}"
        )
        chosen = pick_critic(store, critic)
        if chosen is None:
            return
        if critic is None and len(critics) > 1:
            console.print(
                f"summary by critic {chosen} (the most recently judged; choose another with --critic)"
            )
        cfg = meta.get("config") or {}
        taxonomy = load_taxonomy(overrides=[Path(p) for p in cfg.get("taxonomy", [])])
        summary = summarize_store(store, taxonomy, chosen)
        configs = {cid: c.label() for cid, c in store.configs().items()}
    render_summary(console, summary, taxonomy, configs)


@runs_app.command("show")
def show_run(
    run: str = typer.Argument(..., help="run id or directory"),
    runs_dir: Path | None = typer.Option(None, "--dir"),
    critic: str | None = typer.Option(
        None, "--critic", help="critic id or its prefix, e.g. 'rules' (default: the most recently judged)"
    ),
) -> None:
    """Metadata and the safety summary of one run."""
    print_run_summary(Console(), resolve_run(run, runs_dir), critic)


@runs_app.command("export")
def export(
    run: str = typer.Argument(..., help="run id or directory"),
    out: Path = typer.Option(..., "--out", "-o", help="output file (.jsonl or .parquet)"),
    runs_dir: Path | None = typer.Option(None, "--dir"),
    critic: str | None = typer.Option(None, "--critic"),
) -> None:
    """One row per response, with its test case and verdict, as JSONL or Parquet."""
    path = resolve_run(run, runs_dir)
    with RunStore.open_dir(path) as store:
        n = export_run(store, out, critic=critic)
    Console(stderr=True).print(f"wrote {n} rows to {out}")


@runs_app.command("merge")
def merge(
    dest: str = typer.Argument(..., help="run id or directory to merge into"),
    sources: list[str] = typer.Argument(..., help="runs (e.g. shards written with --shard i/n) to fold in"),
    runs_dir: Path | None = typer.Option(None, "--dir"),
) -> None:
    """Fold shard runs into one run: each unit of work is kept once, answers win over errors."""
    target = resolve_run(dest, runs_dir)
    with RunStore.open_dir(target) as store:
        for src in sources:
            store.merge_from(resolve_run(src, runs_dir) / RunStore.FILENAME)
        counts = store.count_responses()
    Console(stderr=True).print(
        f"merged {len(sources)} run(s) into {target}: {counts['ok']} answers, {counts['error']} errors"
    )
