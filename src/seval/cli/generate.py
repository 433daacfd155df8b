"""`seval generate`: new test prompts per risk and language (S-Eval's Mt), and `export-sft` for training one.

    seval generate --risks ci.drug_crimes,dp --per-risk 20 --lang en --out gen.jsonl
    seval generate export-sft --in selected.jsonl --out sft.jsonl

Errors a user can fix are raised as SevalError and printed as one line by the main app; a generator
that dies mid-run still gets its summary table printed first, since what it wrote is kept.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from seval import defaults
from seval import generate as settings

if TYPE_CHECKING:
    from seval.taxonomy import Taxonomy

generate_app = typer.Typer(
    help="Generate new test prompts per risk and language (S-Eval's Mt); export them for fine-tuning.",
    invoke_without_command=True,
    no_args_is_help=True,
)

USAGE_HINT = (
    "e.g. seval generate --risks ci.drug_crimes,hs.cyberbullying --per-risk 20 --lang en --out gen.jsonl"
)


class _RichGenerationProgress:
    """GenerationProgress on a rich bar: prompts written of those missing, and the cell being filled."""

    def __init__(self, console: Console, label: str) -> None:
        self.console = console
        self.label = label
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def start(self, total: int) -> None:
        self.stop()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[cell]}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._task = self._progress.add_task(self.label, total=total, cell="")
        self._progress.start()

    def advance(self, n: int) -> None:
        if self._progress is not None and self._task is not None and n:
            self._progress.update(self._task, advance=n)

    def note(self, text: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, cell=text)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._task = None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _summary_table(report: settings.GenerationReport) -> Table:
    table = Table(title=f"generated prompts ({report.generator}, {report.mode} mode)", show_footer=True)
    cells = report.cells
    table.add_column("risk", footer="total", no_wrap=True)
    table.add_column("lang")
    table.add_column("wanted", justify="right", footer=str(sum(c.wanted for c in cells)))
    table.add_column("had", justify="right", footer=str(sum(c.existing for c in cells)))
    table.add_column("written", justify="right", footer=str(sum(c.written for c in cells)))
    table.add_column("calls", justify="right", footer=str(sum(c.calls for c in cells)))
    table.add_column("rejected", justify="right", footer=str(sum(c.n_rejected for c in cells)))
    table.add_column("status")
    for c in cells:
        style = "" if c.total >= c.wanted else "yellow"
        table.add_row(
            c.risk,
            c.lang,
            str(c.wanted),
            str(c.existing),
            str(c.written),
            str(c.calls),
            str(c.n_rejected),
            c.status,
            style=style,
        )
    return table


def _print_report(console: Console, report: settings.GenerationReport) -> None:
    if report.repaired_bytes:
        console.print(
            f"note: cut an unfinished last line ({report.repaired_bytes} bytes) from {report.out}, "
            "left by an interrupted write",
            highlight=False,
        )
    console.print(_summary_table(report))
    reasons: Counter[str] = Counter()
    for c in report.cells:
        reasons.update(c.rejected)
    if reasons:
        top = ", ".join(f"{reason} {n}" for reason, n in reasons.most_common(6))
        console.print(f"rejected by the parser: {top}", highlight=False, soft_wrap=True)
    console.print(
        f"{report.written} new prompts written to {report.out} in {report.elapsed_s:.1f}s "
        f"({report.calls} generator calls)",
        highlight=False,
        soft_wrap=True,
    )


@generate_app.callback(invoke_without_command=True)
def generate(
    ctx: typer.Context,
    risks: Annotated[
        str | None,
        typer.Option(
            "--risks",
            "-r",
            help="Comma-separated risk ids or names (any level), or 'all' for every risk category.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Suite file (JSONL) to append to; re-running resumes it."),
    ] = None,
    per_risk: Annotated[
        int, typer.Option("--per-risk", "-n", min=1, help="Generated prompts wanted per risk and language.")
    ] = defaults.GEN_PER_RISK,
    lang: Annotated[str, typer.Option("--lang", help="Comma-separated languages (zh, en).")] = ",".join(
        defaults.LANGUAGES
    ),
    generator: Annotated[
        str, typer.Option("--generator", "-g", help="Model spec of the generator (Mt).")
    ] = defaults.DEFAULT_TARGET,
    examples: Annotated[
        Path | None,
        typer.Option(
            "--examples", help="Suite file of few-shot examples (default: the built-in seed suite)."
        ),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="chat (instruction models), list (base models continue a numbered list), or auto.",
        ),
    ] = "auto",
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of example choice and sampling.")
    ] = defaults.GEN_SEED,
    temperature: Annotated[
        float, typer.Option("--temperature", min=0.0, max=2.0, help="Sampling temperature.")
    ] = defaults.GEN_TEMPERATURE,
    top_p: Annotated[
        float, typer.Option("--top-p", min=0.01, max=1.0, help="Nucleus sampling.")
    ] = defaults.GEN_TOP_P,
    few_shot: Annotated[
        int, typer.Option("--few-shot", "-k", min=0, max=20, help="Examples shown per call.")
    ] = defaults.GEN_FEW_SHOT,
    max_calls: Annotated[
        int | None,
        typer.Option(
            "--max-calls", min=1, help="Generator calls allowed per risk and language (default: scaled)."
        ),
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="Tokens per generator call (default: per mode).")
    ] = None,
    pair: Annotated[
        bool,
        typer.Option("--pair", help="Also write each prompt's translation (zh<->en), linked by pair_id."),
    ] = False,
    translator: Annotated[
        str | None, typer.Option("--translator", help="Model spec for --pair (default: the generator).")
    ] = None,
    taxonomy_file: Annotated[
        list[Path] | None, typer.Option("--taxonomy", help="Taxonomy override YAML; repeatable.")
    ] = None,
) -> None:
    """Generate new test prompts per risk and language, conditioned on the risk and few-shot examples."""
    if ctx.invoked_subcommand is not None:
        return
    from seval.data.suite_io import read_suite
    from seval.errors import ConfigError
    from seval.generate.generator import check_langs, resolve_risks
    from seval.taxonomy import load_taxonomy

    if not risks:
        raise ConfigError("--risks is required", hint=USAGE_HINT)
    if out is None:
        raise ConfigError("--out is required", hint=USAGE_HINT)
    if mode not in ("auto", "chat", "list"):
        raise ConfigError(f"unknown --mode {mode!r}", hint="choose auto, chat or list")
    taxonomy = load_taxonomy(overrides=list(taxonomy_file or []))
    # Check everything cheap before loading a model, which can take a while.
    risk_ids = [n.id for n in resolve_risks(_split(risks), taxonomy)]
    langs = check_langs(_split(lang))
    example_cases = read_suite(examples) if examples is not None else None
    options = settings.GenerateOptions(
        risks=risk_ids,
        langs=langs,
        per_risk=per_risk,
        mode=mode,
        seed=seed,
        temperature=temperature,
        top_p=top_p,
        few_shot=few_shot,
        max_calls=max_calls,
        max_tokens=max_tokens,
        examples=example_cases,
        retries=defaults.GEN_MAX_RETRIES,
        backoff_s=defaults.GEN_BACKOFF_S,
    )
    console = Console()
    err = Console(stderr=True)
    asyncio.run(_run(console, err, generator, out, options, taxonomy, pair=pair, translator_spec=translator))


async def _run(
    console: Console,
    err: Console,
    generator_spec: str,
    out: Path,
    options: settings.GenerateOptions,
    taxonomy: Taxonomy,
    *,
    pair: bool,
    translator_spec: str | None,
) -> None:
    from seval.generate.translate import Translator
    from seval.models import load_model

    model = load_model(generator_spec)
    translator_model = load_model(translator_spec) if pair and translator_spec else None
    progress = _RichGenerationProgress(err, "generating")
    try:
        try:
            report = await settings.generate_suite(model, out, options, taxonomy=taxonomy, progress=progress)
        except settings.GenerationError as exc:
            progress.stop()
            _print_report(console, exc.report)
            raise
        finally:
            progress.stop()
        _print_report(console, report)
        if pair:
            started = time.perf_counter()
            translator = Translator(
                translator_model or model,
                mode=options.mode if translator_model is None else "auto",
                examples=options.examples,
                seed=options.seed,
                retries=options.retries,
                backoff_s=options.backoff_s,
            )
            pairing = _RichGenerationProgress(err, "translating")
            try:
                pr = await settings.pair_translations(
                    translator, out, risks=list(options.risks), langs=list(options.langs), progress=pairing
                )
            finally:
                pairing.stop()
            failed = ""
            if pr.failed:
                why = ", ".join(f"{k} {v}" for k, v in sorted(pr.reasons.items(), key=lambda kv: -kv[1]))
                failed = f"; {pr.failed} could not be translated ({why}) and stay unpaired"
            console.print(
                f"pairing: {pr.translated} translations written, {pr.linked_existing} linked from an earlier "
                f"run, {pr.calls} translator calls in {time.perf_counter() - started:.1f}s{failed}",
                highlight=False,
                soft_wrap=True,
            )
    finally:
        await model.aclose()
        if translator_model is not None:
            await translator_model.aclose()


@generate_app.command("export-sft")
def export_sft_cmd(
    source: Annotated[Path, typer.Option("--in", "-i", help="Suite file (JSONL) of selected prompts.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Chat JSONL file to write (one example per line).")
    ],
    lang: Annotated[
        str | None, typer.Option("--lang", help="Comma-separated languages to export (default: all).")
    ] = None,
    taxonomy_file: Annotated[
        list[Path] | None, typer.Option("--taxonomy", help="Taxonomy override YAML; repeatable.")
    ] = None,
) -> None:
    """Write (instruction -> prompt) chat examples for fine-tuning a generator (OpenAI/TRL/LLaMA-Factory)."""
    from seval.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(overrides=list(taxonomy_file or []))
    report = settings.export_sft(source, out, langs=_split(lang) if lang else None, taxonomy=taxonomy)
    by_lang = ", ".join(f"{k} {v}" for k, v in sorted(report.by_lang.items())) or "none"
    skipped = ", ".join(f"{k} {v}" for k, v in sorted(report.skipped.items()))
    Console().print(
        f"wrote {report.written} SFT examples to {out} ({by_lang})"
        + (f"; skipped: {skipped}" if skipped else ""),
        highlight=False,
        soft_wrap=True,
    )
