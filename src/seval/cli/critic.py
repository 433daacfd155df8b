"""`seval critic eval|list` and `seval critique RUN`: measure critics, and judge stored runs again.

`critic_app` is the home of every command about critics themselves (a `critic train` belongs here too);
`critique` is top-level because it acts on a run, like `seval run`. Heavy imports (numpy, critics) happen
inside the commands so that `seval --help` stays fast.
"""

from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import typer
from rich.console import Console
from rich.table import Table

from seval import defaults, registry
from seval.cli.progress import RichProgress
from seval.cli.render import pct
from seval.cli.runs import print_run_summary, resolve_run
from seval.errors import SevalError

if TYPE_CHECKING:
    from seval.critic.evaluate import CriticEvaluation, LabeledItem, MetricBlock

critic_app = typer.Typer(help="Measure critics against labeled data, and list them.", no_args_is_help=True)

LIMIT_SEED = 0  # --limit draws the same rows every time, so two critics are compared on equal terms


def sample_items(items: list[LabeledItem], limit: int | None) -> list[LabeledItem]:
    """A fixed random sample of `limit` items in file order: the first N rows of the first file would
    often be one language or one label only."""
    if limit is None or limit >= len(items):
        return items
    if limit < 1:
        raise SevalError(f"--limit must be at least 1, got {limit}")
    keep = sorted(random.Random(LIMIT_SEED).sample(range(len(items)), limit))
    return [items[i] for i in keep]


@critic_app.command("eval")
def eval_critic(
    files: list[Path] | None = typer.Argument(
        None, help="labeled JSONL files (also accepted: --data FILE, repeated); a shell glob works here"
    ),
    data: list[Path] | None = typer.Option(
        None, "--data", "-d", help="labeled JSONL (prompt, response, label)"
    ),
    critic: str = typer.Option(..., "--critic", help="critic name, NAME[:ARG] (see `seval critic list`)"),
    json_out: bool = typer.Option(False, "--json", help="print one JSON object and nothing else"),
    limit: int | None = typer.Option(None, "--limit", "-n", help="evaluate a fixed random sample of N"),
    batch_size: int = typer.Option(64, "--batch-size", help="items per call to the critic"),
) -> None:
    """Balanced accuracy, precision/recall/F1 (unsafe = positive), calibration and speed of a critic."""
    from seval.critic import load_critic
    from seval.critic.evaluate import evaluate_critic, load_labeled

    paths = [*(files or []), *(data or [])]
    if not paths:
        raise SevalError("no labeled data: give JSONL files as arguments or with --data")
    items = sample_items(load_labeled(paths), limit)
    progress = None if json_out else RichProgress(Console(stderr=True))
    judge = load_critic(critic)

    async def go() -> CriticEvaluation:
        try:
            if progress is not None:
                progress.start(f"judging with {judge.id}", total=len(items))
            return await evaluate_critic(
                judge, items, batch_size=batch_size, on_batch=progress.advance if progress else None
            )
        finally:
            if progress is not None:
                progress.stop()
            await judge.aclose()

    result = asyncio.run(go())
    if json_out:
        print(orjson.dumps(result.to_json()).decode())
        return
    render_evaluation(Console(), result)


def _metrics_table(title: str, blocks: dict[str, MetricBlock], first: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(first, no_wrap=True)
    for col in ("bal. acc", "P", "R", "F1", "ECE", "n", "errors", "contr."):
        table.add_column(col, justify="right")
    for name, b in blocks.items():
        ece = "-" if math.isnan(b.ece) else f"{b.ece:.3f}"
        errors = f"[red]{b.errors}[/red]" if b.errors else "0"
        table.add_row(
            name,
            pct(b.balanced_accuracy),
            pct(b.precision),
            pct(b.recall),
            pct(b.f1),
            ece,
            str(b.n),
            errors,
            str(b.controversial),
        )
    return table


def render_evaluation(console: Console, result: CriticEvaluation) -> None:
    """Per-language and overall metrics, the confusion matrices, per-source metrics and throughput."""
    console.print(
        f"[bold]critic[/bold] {result.critic}" + (f" — {result.description}" if result.description else "")
    )
    blocks = {**result.by_lang, "overall": result.overall}
    console.print(_metrics_table("Critic vs labels (unsafe = positive class)", blocks, "language"))
    confusion = Table(title="Confusion matrix", title_justify="left")
    confusion.add_column("language", no_wrap=True)
    for col in ("TP", "FN", "FP", "TN"):
        confusion.add_column(col, justify="right")
    for name, b in blocks.items():
        c = b.confusion
        confusion.add_row(name, str(c.tp), f"[red]{c.fn}[/red]" if c.fn else "0", str(c.fp), str(c.tn))
    console.print(confusion)
    if len(result.by_source) > 1:
        console.print(_metrics_table("Per source", result.by_source, "source"))
    console.print(
        "[dim]P/R/F1 and TP/FN/FP/TN take unsafe as the positive class; controversial verdicts (contr.) "
        "count as unsafe; ECE is the calibration error of the risk score (10 bins)[/dim]"
    )
    t = result.throughput
    rate = "-" if math.isnan(t.responses_per_s) else f"{t.responses_per_s:,.1f}"
    console.print(f"throughput: {rate} responses/s ({t.n} responses in {t.wall_s:.3f} s of judging)")
    if result.overall.errors:
        console.print(
            f"[yellow]{result.overall.errors} verdicts were errors: counted above, left out of every "
            "metric[/yellow]"
        )


@critic_app.command("list")
def list_critics() -> None:
    """Registered critics and what each is. Reads the plugins' declared descriptions; builds nothing."""
    table = Table(title="critics (use as --critic NAME or NAME:ARG)", title_justify="left")
    table.add_column("name", no_wrap=True)
    table.add_column("description")
    for name in registry.critics.names():
        try:
            factory = registry.critics.get(name)
        except SevalError as exc:  # a broken third-party plugin must not hide the others
            table.add_row(name, f"[red]cannot be loaded: {exc}[/red]")
            continue
        text = getattr(factory, "description", "")
        marker = " [dim](default)[/dim]" if name == defaults.DEFAULT_CRITIC else ""
        table.add_row(name + marker, text if isinstance(text, str) and text else "[dim]-[/dim]")
    Console().print(table)


def critique(
    run: str = typer.Argument(..., help="run id or directory"),
    critic: str = typer.Option(..., "--critic", help="critic name, NAME[:ARG] (see `seval critic list`)"),
    batch_size: int = typer.Option(64, "--batch-size", help="responses per call to the critic"),
    runs_dir: Path | None = typer.Option(None, "--dir", help="folder that holds runs (default: seval-runs)"),
) -> None:
    """Judge a stored run's answers with a critic, without asking any target again; then summarise.

    Verdicts are kept per critic, so this adds to (never replaces) other critics' verdicts, and running
    it again judges only what is missing.
    """
    from seval.critic import load_critic
    from seval.engine.critique import CritiqueStats, critique_run
    from seval.engine.store import RunStore

    if batch_size < 1:
        raise SevalError(f"--batch-size must be at least 1, got {batch_size}")
    path = resolve_run(run, runs_dir)
    err = Console(stderr=True)
    judge = load_critic(critic)
    progress = RichProgress(err)

    async def go(store: RunStore) -> CritiqueStats:
        try:
            # The same selection critique_run makes, so the bar ends at 100%.
            judged, tests = store.judged_keys(judge.id), store.tests_by_id()
            todo = sum(1 for r in store.responses(ok_only=True) if r.key not in judged and r.test_id in tests)
            if todo:
                progress.start(f"judging with {judge.id}", total=todo)
            return await critique_run(store, judge, batch_size=batch_size, on_batch=progress.advance)
        finally:
            progress.stop()
            await judge.aclose()

    with RunStore.open_dir(path) as store:
        stats = asyncio.run(go(store))
    if stats.judged:
        err.print(
            f"[bold]critique[/bold]: judged {stats.judged} responses with {judge.id} "
            f"({stats.skipped} already judged, {stats.parse_errors} critic errors)"
        )
    else:
        err.print(
            f"[bold]critique[/bold]: nothing to judge — all {stats.skipped} answered responses already have "
            f"verdicts of {judge.id}"
        )
    print_run_summary(Console(), path, judge.id)


def _data_file(spec: str) -> object:
    """`PATH[:KIND]` -> DataFile; KIND is inferred when omitted: an S-Eval zip, the word `seed` (our seed
    suite), a JSONL whose rows have a `response` (response-labeled) or only a `prompt` (prompt-labeled)."""
    from seval.critic.local.train import DataFile

    if spec == "seed":
        return DataFile(Path("seed"), "seed")
    path_s, sep, kind = spec.rpartition(":")
    if not sep or kind not in ("responses", "prompts", "s-eval", "seed"):
        path_s, kind = spec, ""
    path = Path(path_s)
    if not path.is_file():
        raise SevalError(f"training data file not found: {path}")
    if not kind:
        if path.suffix == ".zip":
            kind = "s-eval"
        else:
            with path.open(encoding="utf-8") as fh:
                first = next((line for line in fh if line.strip()), "")
            try:
                row = orjson.loads(first) if first else {}
            except orjson.JSONDecodeError as exc:
                raise SevalError(f"{path}:1: not JSON; name the kind as PATH:KIND") from exc
            kind = "responses" if "response" in row else "prompts"
    return DataFile(path, kind)


@critic_app.command("train")
def train_critic(
    data: list[str] = typer.Option(
        ..., "--data", "-d", help="PATH[:responses|prompts|s-eval] or `seed`; repeat for each file"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="directory for the trained artifacts"),
    cache: Path | None = typer.Option(None, "--cache", help="cache sentence embeddings here between runs"),
) -> None:
    """Train the local critic (both tiers and the cascade thresholds) and write it to --out.

    Use it with `--critic local:DIR` (or local-fast:DIR, local-accurate:DIR)."""
    from seval.critic.local.embed import Encoder
    from seval.critic.local.train import DataFile, train

    console = Console(stderr=True)
    files = [_data_file(d) for d in data]
    root = Path.cwd()
    result = train(
        [f for f in files if isinstance(f, DataFile)],
        encoder=Encoder(cache),
        root=root,
        log=lambda msg: console.print(f"[dim]{msg}[/dim]"),
    )
    result.model.save(out)
    casc = result.model.manifest["cascade"]
    console.print(
        f"wrote {out}: cascade band ({casc['low']:.3f}, {casc['high']:.3f}), "
        f"{casc['settled_by_fast_on_validation']:.0%} settled by the fast tier on validation folds"
    )


@critic_app.command("crossval")
def crossval_critic(
    data: list[str] = typer.Option(
        ..., "--data", "-d", help="PATH[:responses|prompts|s-eval] or `seed`; repeat for each file"
    ),
    hold_out: list[str] = typer.Option(
        [], "--hold-out", help="source to hold out (repeatable); default: each of our own labeled sets"
    ),
    cache: Path | None = typer.Option(None, "--cache", help="cache sentence embeddings here between runs"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object and nothing else"),
) -> None:
    """Cross-source validation: for each held-out source, train the local critic on all the other data
    and measure it on that source (balanced accuracy at 0.5 per language, fast / accurate / cascade)."""
    from seval.critic.local.crossval import cross_source
    from seval.critic.local.embed import Encoder
    from seval.critic.local.train import DataFile

    console = Console(stderr=True)
    files = [f for f in (_data_file(d) for d in data) if isinstance(f, DataFile)]
    result = cross_source(
        files,
        encoder=Encoder(cache),
        hold_out=hold_out,
        log=lambda msg: console.print(f"[dim]{msg}[/dim]"),
    )
    if as_json:
        typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title=f"cross-source balanced accuracy (threshold {result['threshold']})")
    for col in ("held-out source", "lang", "n", "unsafe", "fast", "accurate", "cascade", "AUC"):
        table.add_column(col, justify="left" if col in ("held-out source", "lang") else "right")

    def cell(v: float | None) -> str:
        return "–" if v is None else f"{v:.3f}"

    for source, per_lang in result["sources"].items():
        for lg, r in per_lang.items():
            table.add_row(
                source,
                lg,
                str(r["n"]),
                str(r["unsafe"]),
                cell(r["fast"]),
                cell(r["accurate"]),
                cell(r["cascade"]),
                cell(r["cascade_auc"]),
            )
    for lg, r in result["pooled"].items():
        table.add_row("pooled", lg, str(r["n"]), "", "", "", cell(r["balanced_accuracy"]), cell(r["auc"]))
    Console().print(table)
