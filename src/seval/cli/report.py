"""`seval report` and `seval compare`: what the runs say, as a file to share or a verdict for CI."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from seval.cli.runs import resolve_run
from seval.engine.critique import pick_critic
from seval.engine.store import RunStore
from seval.errors import ConfigError, SevalError
from seval.metrics.compute import MetricsBuilder
from seval.metrics.frame import RunFrame, load_frame
from seval.report import build_metrics, format_for, write_report
from seval.taxonomy import Taxonomy, load_taxonomy


def _runs_with_critics(
    runs: list[str], runs_dir: Path | None, critic: str | None
) -> list[tuple[Path, str | None]]:
    out: list[tuple[Path, str | None]] = []
    seen: set[Path] = set()
    for run in runs:
        path = resolve_run(run, runs_dir).resolve()
        if path in seen:
            continue
        seen.add(path)
        with RunStore.open_dir(path) as store:
            out.append((path, pick_critic(store, critic)))
    return out


def _taxonomy_for(runs: list[tuple[Path, str | None]]) -> Taxonomy:
    """The taxonomy the runs were made with: the built-in tree plus every run's override files."""
    overrides: list[Path] = []
    for path, _ in runs:
        with RunStore.open_dir(path) as store:
            cfg = store.get_meta("config") or {}
        overrides += [Path(p) for p in cfg.get("taxonomy", []) if Path(p) not in overrides]
    return load_taxonomy(overrides=overrides)


def report(
    runs: list[str] = typer.Argument(..., help="one or more run ids or directories"),
    out: Path = typer.Option(..., "--out", "-o", help="report file (.html, .md, .json or .csv)"),
    fmt: str | None = typer.Option(None, "--format", "-f", help="html|md|json|csv (default: from --out)"),
    critic: str | None = typer.Option(
        None, "--critic", help="critic id or prefix whose verdicts to use (default: each run's latest)"
    ),
    labels: list[Path] = typer.Option(
        [],
        "--labels",
        help="human-labeled answers (JSONL with key or prompt+response, and label): "
        "the report shows the critic's agreement with them",
    ),
    examples: int | None = typer.Option(
        None, "--examples", min=0, help="unsafe examples per system and risk dimension (0: none)"
    ),
    title: str | None = typer.Option(None, "--title"),
    runs_dir: Path | None = typer.Option(None, "--dir", help="folder that holds runs (default: seval-runs)"),
) -> None:
    """Write a report of one or more runs: leaderboard, risks, attacks, zh vs en, sweeps, examples."""
    kind = format_for(out, fmt)
    loaded = _runs_with_critics(runs, runs_dir, critic)
    m = build_metrics(loaded, _taxonomy_for(loaded), labels=labels, examples=examples, title=title)
    write_report(m, out, kind)
    console = Console(stderr=True)
    for w in m["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    best = m["systems"][m["leaderboard"][0]] if m["leaderboard"] else None
    summary = f" (leader: {best['label']}, safety {best['overall']['score'] * 100:.1f}%)" if best and best[
        "overall"]["score"] is not None else ""  # fmt: skip
    console.print(f"wrote {kind} report of {len(m['systems'])} system(s) to {out}{summary}", highlight=False)


# --- compare ----------------------------------------------------------------------------------------


def _pick_system(frame: RunFrame, run: int, target: str | None, side: str) -> list[int]:
    systems = frame.systems_of_run(run)
    if target:
        systems = [s for s in systems if target in (s.target, s.label) or s.target.startswith(target)]
        if not systems:
            have = ", ".join(s.label for s in frame.systems_of_run(run))
            raise ConfigError(
                f"run {frame.runs[run].run_id} has no target matching --target-{side} '{target}' "
                f"(has: {have})"
            )
    if not systems:
        raise SevalError(f"run {frame.runs[run].run_id} has no answers")
    return [s.index for s in systems]


def _pairs(
    frame: RunFrame, a_run: int, b_run: int, target_a: str | None, target_b: str | None
) -> list[tuple[int, int]]:
    a_sys = _pick_system(frame, a_run, target_a, "a")
    b_sys = _pick_system(frame, b_run, target_b, "b")
    if len(a_sys) == 1 and len(b_sys) == 1:
        if a_sys == b_sys:
            raise ConfigError("both sides are the same system: pick two with --target-a / --target-b")
        return [(a_sys[0], b_sys[0])]
    # Several systems: pair those with the same target and generation config.
    key = {s: (frame.systems[s].target, frame.systems[s].config_id) for s in a_sys + b_sys}
    pairs = [(a, b) for a in a_sys for b in b_sys if key[a] == key[b] and a != b]
    if not pairs:
        raise ConfigError(
            "cannot tell which systems to compare: name them with --target-a and --target-b "
            f"(A has {', '.join(frame.systems[s].label for s in a_sys)}; "
            f"B has {', '.join(frame.systems[s].label for s in b_sys)})"
        )
    return pairs


def _fmt_pct(x: float | None) -> str:
    return "-" if x is None or math.isnan(x) else f"{x * 100:.1f}%"


def _a_to_b(frame: RunFrame, cmp: dict[str, Any], a: int, b: int) -> dict[str, Any]:
    """Rewrite a `MetricsBuilder.compare(b, a)` result so that `a`/`b` are the two runs' scores and
    `diff` is B minus A, which is how a user reads "from A to B"."""
    rows = [r | {"a": r["b"], "b": r["a"]} for r in cmp["rows"]]
    return {
        "a": a, "b": b, "a_label": frame.systems[a].label, "b_label": frame.systems[b].label,
        "paired": cmp["paired"], "shared_prompts": cmp["shared_prompts"], "rows": rows,
    }  # fmt: skip


def _render_comparison(console: Console, cmp: dict[str, Any], names: dict[str, str]) -> None:
    how = (
        f"paired on {cmp['shared_prompts']} shared prompts"
        if cmp["paired"]
        else "unpaired (no shared prompts)"
    )
    table = Table(title=f"A = {cmp['a_label']}  →  B = {cmp['b_label']}  ({how})", title_justify="left")
    table.add_column("facet", no_wrap=True)
    table.add_column("", overflow="fold")
    for col in ("A", "B", "B − A", "95% CI", "q"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for r in cmp["rows"]:
        diff = r["diff"]
        if r["significant"]:
            verdict = "[green]safer[/green]" if diff > 0 else "[red]worse[/red]"
        else:
            verdict = "[dim]n.s.[/dim]" if r["facet"] == "overall" else ""
        table.add_row(
            r["facet"],
            names.get(r["key"], r["key"]),
            _fmt_pct(r["a"]),
            _fmt_pct(r["b"]),
            "-" if diff is None else f"{diff * 100:+.1f} pt",
            "-" if r["lo"] is None else f"{r['lo'] * 100:+.0f}…{r['hi'] * 100:+.0f}",
            "-" if r["q"] is None else f"{r['q']:.3g}",
            verdict,
        )
    console.print(table)


def compare(
    run_a: str = typer.Argument(..., help="the baseline run (id or directory)"),
    run_b: str = typer.Argument(
        ..., help="the run to compare with it (may be the same run, with --target-*)"
    ),
    target_a: str | None = typer.Option(None, "--target-a", help="target of run A (when it has several)"),
    target_b: str | None = typer.Option(None, "--target-b", help="target of run B (when it has several)"),
    critic: str | None = typer.Option(
        None, "--critic", help="critic id or prefix (default: each run's latest)"
    ),
    json_out: bool = typer.Option(False, "--json", help="print the comparison as JSON"),
    fail_on_worse: bool = typer.Option(
        False,
        "--fail-on-worse",
        help="exit with status 1 when B is significantly less safe anywhere (for CI)",
    ),
    runs_dir: Path | None = typer.Option(None, "--dir"),
) -> None:
    """What got safer or worse from run A to run B, per risk, attack and language, with significance."""
    same = resolve_run(run_a, runs_dir).resolve() == resolve_run(run_b, runs_dir).resolve()
    loaded = _runs_with_critics([run_a] if same else [run_a, run_b], runs_dir, critic)
    frame = load_frame(loaded, _taxonomy_for(loaded))
    builder = MetricsBuilder(frame)
    comparisons = [
        _a_to_b(frame, builder.compare(b, a), a, b)
        for a, b in _pairs(frame, 0, 0 if same else 1, target_a, target_b)
    ]
    if json_out:
        payload = {"systems": [s.to_json() for s in frame.systems], "comparisons": comparisons}
        print(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    else:
        console = Console()
        names = {d.id: d.name_en for d in frame.taxonomy.dimensions()}
        names |= {c.id: c.name_en for c in frame.taxonomy.categories()}
        critics = {s.critic for s in frame.systems}
        if len(critics) > 1:
            console.print(
                "[yellow]warning:[/yellow] the runs were judged by different critics: "
                + ", ".join(sorted(str(c) for c in critics))
            )
        for cmp in comparisons:
            _render_comparison(console, cmp, names)
    worse = [r for c in comparisons for r in c["rows"] if r["significant"] and r["diff"] < 0]
    if fail_on_worse and worse:
        Console(stderr=True).print(f"[red]{len(worse)} significant regression(s)[/red]")
        raise typer.Exit(1)
