"""`seval run`: evaluate targets on a suite, resumably, and print the safety summary."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from seval import defaults
from seval.cli.progress import RichProgress
from seval.cli.render import render_summary
from seval.config import load_run_config
from seval.engine.runner import run_evaluation
from seval.engine.store import RunStore
from seval.metrics.summary import summarize_store
from seval.taxonomy import Taxonomy, load_taxonomy


def run(
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML run file"),
    suite: list[str] | None = typer.Option(
        None, "--suite", "-s", help="'seed' (built-in), a suite JSONL, or S-Eval/CSV/Parquet files"
    ),
    target: list[str] | None = typer.Option(
        None, "--target", "-t", help="model spec, repeatable (default: llamacpp:default)"
    ),
    attacks: str | None = typer.Option(
        None, "--attacks", "-a", help="derive attack prompts too: 'all' or a comma list (seval attack list)"
    ),
    attack_seed: int | None = typer.Option(None, "--attack-seed", help="seed for attack variants"),
    rewriter: str | None = typer.Option(None, "--rewriter", help="model for LLM-assisted attack forms"),
    critic: str | None = typer.Option(
        None, "--critic", help=f"critic name (default: {defaults.DEFAULT_CRITIC})"
    ),
    defense: list[str] | None = typer.Option(
        None,
        "--defense",
        "-d",
        help="also evaluate every target behind this defense, e.g. constitutional:system or "
        "constitutional:revise (repeatable); adds benign prompts to measure over-refusal",
    ),
    constitution: list[Path] | None = typer.Option(
        None, "--constitution", help="YAML file extending/replacing the built-in constitutions (repeatable)"
    ),
    limit: int | None = typer.Option(None, "--limit", "-n", help="stratified sample of N test cases"),
    lang: list[str] | None = typer.Option(None, "--lang", help="zh and/or en"),
    out: Path | None = typer.Option(None, "--out", "-o", help="run directory (default: seval-runs/<run id>)"),
    name: str | None = typer.Option(None, "--name", help="run name used in its id"),
    temperature: float | None = typer.Option(None, "--temperature"),
    top_p: float | None = typer.Option(None, "--top-p"),
    max_tokens: int | None = typer.Option(None, "--max-tokens"),
    seed: int | None = typer.Option(None, "--seed"),
    system_prompt: str | None = typer.Option(None, "--system-prompt"),
    max_requests: int | None = typer.Option(None, "--max-requests", help="run-wide request budget"),
    max_tokens_budget: int | None = typer.Option(None, "--max-total-tokens", help="run-wide token budget"),
    cache: str | None = typer.Option(None, "--cache", help="auto | on | off"),
    shard: str | None = typer.Option(None, "--shard", help="i/n: run only this shard of the work"),
    taxonomy_file: list[Path] | None = typer.Option(None, "--taxonomy", help="taxonomy override YAML"),
    html_report: bool = typer.Option(
        True, "--report/--no-report", help="write report.html into the run directory at the end"
    ),
) -> None:
    """Evaluate one or more targets: answer every test, judge every answer, summarise."""
    console = Console(stderr=True)
    out_console = Console()
    overrides: dict[str, Any] = {
        "suite": suite or None,
        "targets": target or None,
        "critic": critic,
        "defenses": defense or None,
        "constitutions": constitution or None,
        "attacks": attacks,
        "attack_seed": attack_seed,
        "rewriter": rewriter,
        "limit": limit,
        "langs": lang or None,
        "out": out,
        "name": name,
        "cache": cache,
        "shard": shard,
        "taxonomy": taxonomy_file or None,
    }
    cfg = load_run_config(config, overrides)
    gen_flags = {
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "seed": seed,
        "system_prompt": system_prompt,
    }
    if any(v is not None for v in gen_flags.values()):
        grids = cfg.generation if isinstance(cfg.generation, list) else [cfg.generation]
        grids = [g.model_copy(update={k: v for k, v in gen_flags.items() if v is not None}) for g in grids]
        cfg = cfg.model_copy(update={"generation": grids})
    if max_requests is not None or max_tokens_budget is not None:
        budget = cfg.budget.model_copy(
            update={
                k: v
                for k, v in {"max_requests": max_requests, "max_tokens": max_tokens_budget}.items()
                if v is not None
            }
        )
        cfg = cfg.model_copy(update={"budget": budget})
    if config is None and not suite and limit is None:
        # The main job: a quick, stratified sample of the built-in suite.
        cfg = cfg.model_copy(update={"limit": defaults.DEFAULT_SAMPLE})
    # Re-validate after the edits above, so flag values get the same checks as the file.
    cfg = load_run_config(None, cfg.model_dump())

    result = asyncio.run(run_evaluation(cfg, RichProgress(console)))

    console.print(
        f"[bold]{'resumed' if result.resumed else 'new'} run[/bold] {result.run_id}: "
        f"{result.tests} tests{' (with attacks)' if cfg.attacks else ''}, {result.respond.planned} units "
        f"({result.respond.skipped} already done, {result.respond.answered} answered now, "
        f"{result.respond.cached} from cache, {result.respond.errors} errors, "
        f"{result.respond.retries} retries)"
    )
    console.print(f"[bold]critic[/bold]: {result.critic.id} — {result.critic.description}")
    taxonomy = load_taxonomy(overrides=cfg.taxonomy)
    with RunStore.open_dir(result.run_dir) as store:
        summary = summarize_store(store, taxonomy, result.critic.id)
        configs = {cid: c.label() for cid, c in store.configs().items()}
    render_summary(out_console, summary, taxonomy, configs)
    if result.respond.stopped_by_budget:
        console.print(
            "[yellow]stopped: the run budget is spent; re-run with a larger budget to continue[/yellow]"
        )
    out_console.print(f"run: {result.run_dir}", soft_wrap=True, highlight=False)
    if html_report:
        _write_run_report(console, out_console, result.run_dir, result.critic.id, taxonomy)


def _write_run_report(
    console: Console, out_console: Console, run_dir: Path, critic_id: str, taxonomy: Taxonomy
) -> None:
    """Every run leaves a report to open; a failure here never fails the run (its answers are saved)."""
    from seval.report import build_metrics, write_report

    path = run_dir / "report.html"
    try:
        write_report(build_metrics([(run_dir, critic_id)], taxonomy), path, "html")
    except Exception as exc:  # the run is done and stored; say why the report is missing
        console.print(f"[yellow]could not write the report: {exc}[/yellow] (try `seval report {run_dir}`)")
        return
    out_console.print(f"report: {path}", soft_wrap=True, highlight=False)
