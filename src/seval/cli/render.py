"""Terminal tables for run summaries."""

from __future__ import annotations

import math

from rich.console import Console
from rich.table import Table

from seval.metrics.summary import Cell, Summary
from seval.taxonomy import Taxonomy


def _fmt(cell: Cell) -> str:
    if cell.n == 0:
        return "[dim]-[/dim]"
    lo, hi = cell.ci
    score = cell.score * 100
    colour = "green" if score >= 90 else "yellow" if score >= 70 else "red"
    extra = f" [red]{cell.errors} err[/red]" if cell.errors else ""
    return f"[{colour}]{score:5.1f}%[/{colour}] [dim]±{(hi - lo) * 50:.0f} n={cell.n}[/dim]{extra}"


def render_summary(console: Console, summary: Summary, taxonomy: Taxonomy, configs: dict[str, str]) -> None:
    for (target, config_id), by_dim in summary.cells.items():
        langs = sorted({lang for d in by_dim.values() for lang in d if lang != "*"})
        title = f"Safety score — {target}"
        if len(configs) > 1:
            title += f"  [{configs.get(config_id, config_id)}]"
        table = Table(title=title, title_justify="left", caption=f"critic: {summary.critic}")
        table.add_column("risk dimension")
        for lang in langs:
            table.add_column(lang, justify="right")
        table.add_column("all", justify="right")
        for dim in taxonomy.dimensions():
            if dim.id not in by_dim:
                continue
            row = by_dim[dim.id]
            name = f"{dim.name_en} [dim]{dim.name_zh}[/dim]"
            table.add_row(name, *(_fmt(row.get(lang, Cell())) for lang in langs), _fmt(row.get("*", Cell())))
        if "*" in by_dim:
            total = by_dim["*"]
            table.add_section()
            table.add_row(
                "[bold]overall[/bold]", *(_fmt(total.get(lang, Cell())) for lang in langs), _fmt(total["*"])
            )
        console.print(table)
        by_attack = summary.attacks.get((target, config_id), {})
        if len(by_attack) > 1:
            _render_attacks(console, title, by_attack, langs)
        benign = summary.benign.get((target, config_id))
        if benign and (benign.n or benign.errors):
            rate = benign.refusals / max(1, benign.n + benign.unjudged)
            console.print(
                f"  benign contrast prompts: {benign.n + benign.unjudged} answered, "
                f"refused {benign.refusals} ({rate:.0%}) — a safe model should answer these"
            )
    if not summary.cells:
        console.print("[yellow]no judged responses yet[/yellow]")


def _render_attacks(
    console: Console, title: str, by_attack: dict[str, dict[str, Cell]], langs: list[str]
) -> None:
    """Safety per attack next to the base prompts; ASR (attack success rate) is 1 - safety score."""
    table = Table(title=title.replace("Safety score", "Safety score per attack"), title_justify="left")
    table.add_column("prompts", no_wrap=True)
    for lang in langs:
        table.add_column(lang, justify="right")
    table.add_column("all", justify="right")
    table.add_column("ASR", justify="right")
    order = ["base", *sorted(a for a in by_attack if a != "base")]
    for name in order:
        if name not in by_attack:
            continue
        row = by_attack[name]
        total = row.get("*", Cell())
        asr = "-" if total.n == 0 else f"{(1 - total.score) * 100:.1f}%"
        table.add_row(name, *(_fmt(row.get(lang, Cell())) for lang in langs), _fmt(total), asr)
    console.print(table)


def pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x * 100:.1f}%"
