"""`seval select`: turn generated prompts into a suite: quality, dedup, diversity, difficulty, budgets.

Errors a user can fix (a missing or malformed file, an unknown strategy or risk) are raised as
SevalError and printed as one line by the main app.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from seval.errors import DataError
from seval.records import TestCase

if TYPE_CHECKING:  # the selection stack (numpy, scipy, sklearn) loads only when `select` runs
    from seval.select.pipeline import CoverageReport
    from seval.taxonomy import Taxonomy

_DEFAULT_STRATEGIES = "quality,dedup,diversity"


def read_cases(paths: Sequence[Path], what: str = "input") -> list[TestCase]:
    """Every test case of the given suite files, in order; a missing, malformed or empty file is a
    DataError naming it. Repeated ids within a file are dropped by the suite reader (and counted)."""
    from seval.data.suite_io import DuplicateIdWarning, iter_suite

    cases: list[TestCase] = []
    for path in paths:
        if not path.is_file():
            raise DataError(
                f"{what} file {path} does not exist" if not path.exists() else f"{path} is not a file"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DuplicateIdWarning)
            found = list(iter_suite(path))
        if not found:
            raise DataError(f"{what} file {path} holds no test cases")
        cases.extend(found)
    return cases


def select(
    inputs: Annotated[
        list[Path],
        typer.Option("--in", "-i", help="Generated prompts (suite JSONL); repeat for several files."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Suite file to write the selected prompts to.")],
    strategies: Annotated[
        str,
        typer.Option(
            "--strategies",
            "-s",
            help="Comma-separated, run in this order: quality, dedup, diversity, difficulty.",
        ),
    ] = _DEFAULT_STRATEGIES,
    budget: Annotated[
        int | None,
        typer.Option("--budget-per-risk", "-k", min=1, help="Keep at most K prompts per risk and language."),
    ] = None,
    against: Annotated[
        list[Path] | None,
        typer.Option("--against", help="Existing suite: its prompts are never re-added (repeatable)."),
    ] = None,
    examples: Annotated[
        list[Path] | None,
        typer.Option(
            "--examples", help="Extra example prompts per risk for the on-topic check (repeatable)."
        ),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the coverage report as JSON.")
    ] = None,
    dropped_out: Annotated[
        Path | None, typer.Option("--dropped", help="Write the dropped prompts with their reasons (JSONL).")
    ] = None,
    difficulty_run: Annotated[
        Path | None,
        typer.Option("--difficulty-run", help="A judged run that put these prompts to reference models."),
    ] = None,
    critic: Annotated[
        str | None,
        typer.Option(
            "--critic", help="Whose verdicts count for difficulty: critic id or prefix (default: latest)."
        ),
    ] = None,
    min_difficulty: Annotated[
        float | None,
        typer.Option(
            "--min-difficulty", min=0.0, max=1.0, help="Drop prompts whose difficulty is below this."
        ),
    ] = None,
    diversity_method: Annotated[
        str, typer.Option("--diversity-method", help="mmr (quality vs novelty) or kcenter (spread only).")
    ] = "mmr",
    topic_check: Annotated[
        bool,
        typer.Option(
            "--topic-check/--no-topic-check", help="Drop prompts the on-topic score finds off topic."
        ),
    ] = True,
    taxonomy_files: Annotated[
        list[Path] | None, typer.Option("--taxonomy", help="Taxonomy override YAML (repeatable).")
    ] = None,
) -> None:
    """Select test prompts: drop bad, duplicate and redundant ones, keep the hardest, per-risk budgets."""
    from seval.data.suite_io import write_suite
    from seval.select import SelectConfig, select_cases
    from seval.select.difficulty import evidence_from_run
    from seval.select.pipeline import parse_strategies
    from seval.taxonomy import load_taxonomy

    console = Console()
    chosen = parse_strategies(strategies)
    taxonomy = load_taxonomy(overrides=taxonomy_files or None)
    cases = read_cases(inputs)
    existing = read_cases(against, "--against") if against else []
    extra = read_cases(examples, "--examples") if examples else []
    evidence = None
    if difficulty_run is not None:
        if not difficulty_run.is_dir():
            raise DataError(f"--difficulty-run {difficulty_run}: no such run folder")
        evidence = evidence_from_run(difficulty_run, critic)
    config = SelectConfig(
        strategies=chosen,
        budget=budget,
        diversity_method=diversity_method,
        min_difficulty=min_difficulty,
        check_topic=topic_check,
    )
    result = select_cases(
        cases, config, taxonomy=taxonomy, against=existing, examples=extra, evidence=evidence
    )
    written = write_suite(result.kept, out)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_bytes(orjson.dumps(result.report.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    if dropped_out is not None:
        dropped_out.parent.mkdir(parents=True, exist_ok=True)
        with dropped_out.open("wb") as fh:
            for d in result.dropped:
                fh.write(
                    orjson.dumps(
                        {**d.to_json(), "lang": d.case.lang, "risk": d.case.risk, "prompt": d.case.prompt}
                    )
                )
                fh.write(b"\n")
    _render(console, result.report, taxonomy)
    console.print(
        f"selected {written} of {len(cases)} prompts -> {out}"
        + (f"; coverage report -> {report}" if report else ""),
        highlight=False,
        soft_wrap=True,
    )


def _render(console: Console, report: CoverageReport, taxonomy: Taxonomy) -> None:
    """Two tables: what each step removed and why, then prompts per risk and language after each step."""
    steps = Table(title="selection steps", title_justify="left")
    steps.add_column("step")
    steps.add_column("before", justify="right")
    steps.add_column("after", justify="right")
    steps.add_column("removed (reason: count)")
    for s in report.steps:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(s.removed.items(), key=lambda kv: -kv[1]) if v)
        steps.add_row(s.step, str(s.before), str(s.after), reasons or "[dim]-[/dim]")
    console.print(steps)
    if report.cleaned:
        cleaned = ", ".join(f"{k}: {v}" for k, v in sorted(report.cleaned.items()))
        console.print(f"  prefixes stripped (kept): {cleaned}", highlight=False)

    coverage = Table(title="prompts per risk and language", title_justify="left")
    coverage.add_column("risk")
    coverage.add_column("lang")
    coverage.add_column("input", justify="right")
    for s in report.steps:
        coverage.add_column(s.step, justify="right")
    for risk, lang in report.groups():
        name = taxonomy.get(risk).name_en if risk in taxonomy else risk
        row = [str(report.steps[i].counts.get((risk, lang), 0)) for i in range(len(report.steps))]
        last = row[-1] if row else str(report.input_counts[(risk, lang)])
        style = "red" if last == "0" else None
        coverage.add_row(
            f"{name} [dim]{risk}[/dim]", lang, str(report.input_counts[(risk, lang)]), *row, style=style
        )
    console.print(coverage)
