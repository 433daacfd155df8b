"""The generation pipeline: for each (risk, language) cell, ask a generator for new prompts until the
cell holds `per_risk` of them, appending each batch to the output suite with its provenance.

Two ways to ask, because the default local model is a base model:

- chat: an instruction with the risk's name, description and a few examples (prompts.chat_messages),
  parsed with the lenient list parser;
- list: a document that ends with the next item of a numbered list of examples
  (prompts.list_document), continued by `complete` and parsed strictly, one call per example subset
  and seed until the cell is full or its call budget is spent.

Every call is seeded from (seed, risk, language, attempt), so a run is reproducible, and a resumed run
starts after the last attempt recorded in the file instead of asking the same question again.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from seval import defaults
from seval.defaults import LANGUAGES
from seval.errors import ConfigError, ModelError, TransientModelError
from seval.generate import prompts
from seval.generate.parse import MAX_CHARS, Parsed, parse_continuation, parse_list
from seval.generate.suitefile import SuiteFile, generation_meta, is_native
from seval.models.base import ChatModel, CompletionModel
from seval.records import GenerationConfig, ModelOutput, RiskNode, TestCase, stable_hash
from seval.taxonomy import Taxonomy, load_taxonomy

Mode = Literal["chat", "list"]
MODES = ("auto", "chat", "list")


class GenerationProgress(Protocol):
    """What the pipeline reports while it runs (the CLI shows it with rich)."""

    def start(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...

    def note(self, text: str) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def note(self, text: str) -> None:
        pass


@dataclass
class GenerateOptions:
    """What to generate and how; every field has the stage's default (seval.generate constants)."""

    risks: Sequence[str]
    langs: Sequence[str] = LANGUAGES
    per_risk: int = defaults.GEN_PER_RISK
    mode: str = "auto"
    seed: int = defaults.GEN_SEED
    temperature: float = defaults.GEN_TEMPERATURE
    top_p: float = defaults.GEN_TOP_P
    few_shot: int = defaults.GEN_FEW_SHOT
    # Tokens per call; None: CHAT_MAX_TOKENS or LIST_MAX_TOKENS.
    max_tokens: int | None = None
    # Calls per cell; None: MIN_CALLS + CALLS_PER_PROMPT[mode] x prompts missing.
    max_calls: int | None = None
    # Few-shot pool; None: the built-in seed suite (risky prompts only).
    examples: Sequence[TestCase] | None = None
    retries: int = defaults.GEN_MAX_RETRIES
    backoff_s: float = defaults.GEN_BACKOFF_S


@dataclass
class CellReport:
    """One (risk, language) cell: what was wanted, found, asked and kept."""

    risk: str
    lang: str
    wanted: int
    existing: int = 0
    written: int = 0
    calls: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    examples: int = 0
    status: str = "pending"

    @property
    def n_rejected(self) -> int:
        return sum(self.rejected.values())

    @property
    def total(self) -> int:
        return self.existing + self.written


@dataclass
class GenerationReport:
    out: Path
    generator: str
    mode: Mode
    cells: list[CellReport]
    elapsed_s: float = 0.0
    repaired_bytes: int = 0
    error: str | None = None

    @property
    def written(self) -> int:
        return sum(c.written for c in self.cells)

    @property
    def calls(self) -> int:
        return sum(c.calls for c in self.cells)


class GenerationError(ModelError):
    """The generator failed for good (server down, bad model name); what was written is kept."""

    def __init__(self, message: str, report: GenerationReport, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


# --- inputs --------------------------------------------------------------------------------------------


def resolve_risks(labels: Sequence[str], taxonomy: Taxonomy) -> list[RiskNode]:
    """Risk nodes for ids, names or aliases; `all` is every category. Unknown labels raise with a hint."""
    out: dict[str, RiskNode] = {}
    for label in labels:
        label = label.strip()
        if not label:
            continue
        if label.lower() == "all":
            out.update((n.id, n) for n in taxonomy if n.level == defaults.GEN_ALL_RISKS_LEVEL)
        else:
            node = taxonomy.resolve(label)
            out[node.id] = node
    if not out:
        raise ConfigError("no risks to generate for", hint="pass --risks ID,... or --risks all")
    return list(out.values())


def check_langs(langs: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(x.strip().lower() for x in langs if x.strip()))
    bad = [x for x in wanted if x not in LANGUAGES]
    if bad or not wanted:
        raise ConfigError(
            f"unsupported language(s) {', '.join(repr(b) for b in bad) or '(none)'}",
            hint=f"choose from {', '.join(LANGUAGES)}",
        )
    return wanted


def is_base_model(model: ChatModel) -> bool:
    """A model that continues documents rather than following instructions (llama.cpp's completion
    format, i.e. the default Gemma 3 270M base)."""
    return getattr(model, "prompt_format", None) == "completion"


def resolve_mode(model: ChatModel, mode: str) -> Mode:
    """`auto` is list for a base model that can `complete`, chat otherwise."""
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}", hint=f"choose from {', '.join(MODES)}")
    if mode == "list":
        if not isinstance(model, CompletionModel):
            raise ConfigError(
                f"generator {model.id} cannot continue raw text, which list mode needs",
                hint="use --mode chat",
            )
        return "list"
    if mode == "chat":
        return "chat"
    return "list" if isinstance(model, CompletionModel) and is_base_model(model) else "chat"


def default_examples() -> list[TestCase]:
    from seval.data.seed import load_seed_suite

    return load_seed_suite(include_benign=False)


def example_pool(
    node: RiskNode, lang: str, examples: Sequence[TestCase], taxonomy: Taxonomy
) -> tuple[list[TestCase], list[TestCase]]:
    """(own, borrowed) examples for a cell: the risk's own (it and its sub-risks), and when there are
    fewer than FEW_SHOT of them, more from its nearest ancestors' subtrees (sibling risks)."""
    usable = [
        c for c in examples if c.lang == lang and not c.benign and c.attack is None and c.prompt.strip()
    ]

    def under(root: str) -> list[TestCase]:
        ids = {root, *(d.id for d in taxonomy.descendants(root))} if root in taxonomy else {root}
        return [c for c in usable if c.risk in ids]

    own = under(node.id)
    borrowed: list[TestCase] = []
    if node.id in taxonomy:
        for ancestor in reversed(taxonomy.ancestors(node.id)):
            if len(own) + len(borrowed) >= defaults.GEN_FEW_SHOT:
                break
            have = {c.id for c in own} | {c.id for c in borrowed}
            borrowed += [c for c in under(ancestor.id) if c.id not in have]
    return own, borrowed


def pick_shots(own: list[TestCase], borrowed: list[TestCase], k: int, rng: random.Random) -> list[TestCase]:
    """k examples, the risk's own first in the choice and last in the order: a model continuing a
    list follows the items nearest to where it writes most closely."""
    mine = rng.sample(own, min(k, len(own)))
    extra = rng.sample(borrowed, min(k - len(mine), len(borrowed)))
    return extra + mine


def call_seed(seed: int, risk: str, lang: str, attempt: int) -> int:
    return int(stable_hash({"seed": seed, "risk": risk, "lang": lang, "attempt": attempt}, 8), 16) % 2**31


async def call_with_retries(
    call: Callable[[], Awaitable[ModelOutput]], retries: int, backoff_s: float
) -> ModelOutput:
    """One model call, retried on TransientModelError with jittered exponential backoff."""
    attempt = 0
    while True:
        try:
            return await call()
        except TransientModelError as exc:
            if attempt >= retries:
                raise
            delay = backoff_s * 2**attempt * random.uniform(0.5, 1.0)
            if exc.retry_after is not None:
                delay = max(delay, min(exc.retry_after, 60.0))
            attempt += 1
            await asyncio.sleep(delay)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- one cell ------------------------------------------------------------------------------------------


class _Cell:
    """Generates the missing prompts of one (risk, language) cell."""

    def __init__(
        self,
        *,
        model: ChatModel,
        mode: Mode,
        node: RiskNode,
        lang: str,
        pool: tuple[list[TestCase], list[TestCase]],
        opts: GenerateOptions,
        suite: SuiteFile,
        report: CellReport,
        progress: GenerationProgress,
        taxonomy: Taxonomy,
        known: list[str],
    ) -> None:
        self.model, self.mode, self.node, self.lang = model, mode, node, lang
        self.own, self.borrowed = pool
        self.opts, self.suite, self.report = opts, suite, report
        self.progress = progress
        self.subtopics = [
            prompts.risk_name(child, lang)
            for child in (taxonomy.children(node.id) if node.id in taxonomy else [])
        ]
        # Prompts that are not new: every example in this language, shown or not.
        self.known = known
        mine = [c for c in suite.cases if c.risk == node.id and c.lang == lang and is_native(c)]
        attempts = [generation_meta(c).get("attempt") for c in mine]
        self.next_attempt = max((a for a in attempts if isinstance(a, int)), default=-1) + 1

    def budget(self, missing: int) -> int:
        if self.opts.max_calls is not None:
            return self.opts.max_calls
        return defaults.GEN_MIN_CALLS + math.ceil(defaults.GEN_CALLS_PER_PROMPT[self.mode] * missing)

    async def run(self) -> None:
        rep = self.report
        missing = rep.wanted - rep.existing
        if missing <= 0:
            rep.status = "done before"
            return
        budget, barren = self.budget(missing), 0
        while rep.total < rep.wanted:
            if rep.calls >= budget:
                rep.status = "call limit" if rep.written else f"0 usable prompts from {rep.calls} calls"
                return
            if barren >= defaults.GEN_BARREN_CALLS:
                rep.status = f"gave up: {barren} calls in a row without a usable prompt"
                if not rep.written:
                    rep.status = f"0 usable prompts from {rep.calls} calls"
                return
            attempt = self.next_attempt
            self.next_attempt += 1
            written = await self.one_call(attempt)
            barren = 0 if written else barren + 1
        rep.status = "complete"

    async def one_call(self, attempt: int) -> int:
        seed = call_seed(self.opts.seed, self.node.id, self.lang, attempt)
        rng = random.Random(seed)
        shots = pick_shots(self.own, self.borrowed, self.opts.few_shot, rng)
        need = self.report.wanted - self.report.total
        stops: tuple[str, ...] = ()
        if self.mode == "list":
            max_tokens = self.opts.max_tokens or defaults.GEN_LIST_MAX_TOKENS
            stops = defaults.GEN_LIST_STOPS
        else:
            max_tokens = self.opts.max_tokens or defaults.GEN_CHAT_MAX_TOKENS
        config = GenerationConfig(
            temperature=self.opts.temperature,
            top_p=self.opts.top_p,
            max_tokens=max_tokens,
            seed=seed,
            stop=stops,
        )
        texts = [c.prompt for c in shots]
        call: Callable[[], Awaitable[ModelOutput]]
        first = 0  # list mode: the number of the item the model continues
        opener = ""
        if self.mode == "list":
            if defaults.GEN_LIST_OPENERS:
                opener = rng.choice(prompts.OPENERS[self.lang])
            document, first = prompts.list_document(self.node, self.lang, texts, self.subtopics, opener)
            assert isinstance(self.model, CompletionModel)
            call = functools.partial(self.model.complete, document, config)
        else:
            n = min(need, defaults.GEN_CHAT_BATCH)
            call = functools.partial(
                self.model.generate, prompts.chat_messages(self.node, self.lang, n, texts), config
            )
        self.report.calls += 1
        out = await call_with_retries(call, self.opts.retries, self.opts.backoff_s)
        if self.mode == "list":
            parsed: Parsed = parse_continuation(
                out.text,
                first,
                self.lang,
                prefix=opener,
                finish_reason=out.finish_reason,
                known=self.known,
                max_chars=defaults.GEN_LIST_MAX_ITEM_CHARS.get(self.lang, MAX_CHARS),
            )
        else:
            parsed = parse_list(out.text, self.lang, finish_reason=out.finish_reason, known=self.known)
        self.report.rejected.update(parsed.rejected)
        created = _now()
        cases: list[TestCase] = []
        for item in parsed.items:
            case_id = TestCase.make_id(self.lang, item.text)
            if case_id in self.suite.ids:
                self.report.rejected["already in the suite"] += 1
                continue
            if len(cases) >= need:
                self.report.rejected["beyond the quota"] += 1
                continue
            meta = {
                "generation": {
                    "generator": self.model.id,
                    "mode": self.mode,
                    "template_version": prompts.TEMPLATE_VERSION,
                    "examples": [c.id for c in shots],
                    "config": {
                        "temperature": config.temperature,
                        "top_p": config.top_p,
                        "max_tokens": config.max_tokens,
                        "seed": seed,
                        "run_seed": self.opts.seed,
                    },
                    "attempt": attempt,
                    "item": item.index,
                    **({"opener": opener} if opener and item.index == 1 else {}),
                    "call_finish_reason": out.finish_reason,
                    "created_at": created,
                }
            }
            cases.append(
                TestCase(
                    id=case_id,
                    lang=self.lang,
                    risk=self.node.id,
                    prompt=item.text,
                    origin="generated",
                    meta=meta,
                )
            )
        written = self.suite.append(cases)
        self.report.written += len(written)
        self.progress.advance(len(written))
        return len(written)


# --- the pipeline --------------------------------------------------------------------------------------


async def generate_suite(
    model: ChatModel,
    out: str | Path,
    options: GenerateOptions,
    *,
    taxonomy: Taxonomy | None = None,
    progress: GenerationProgress | None = None,
) -> GenerationReport:
    """Fill every (risk, language) cell of `options` up to `per_risk` generated prompts in `out`.

    Resumable: rows already in `out` count, and only missing prompts are asked for. Raises
    GenerationError (carrying the report so far) when the generator fails for good; every prompt
    written before that stays in the file.
    """
    started = time.perf_counter()
    taxonomy = taxonomy or load_taxonomy()
    if options.per_risk < 1:
        raise ConfigError("--per-risk must be at least 1")
    nodes = resolve_risks(options.risks, taxonomy)
    langs = check_langs(options.langs)
    mode = resolve_mode(model, options.mode)
    examples = list(options.examples) if options.examples is not None else default_examples()
    suite = SuiteFile(Path(out))
    progress = progress or NoProgress()
    report = GenerationReport(
        out=Path(out), generator=model.id, mode=mode, cells=[], repaired_bytes=suite.repaired_bytes
    )
    have = Counter((c.risk, c.lang) for c in suite.cases if is_native(c))
    cells: list[_Cell] = []
    for node in nodes:
        for lang in langs:
            pool = example_pool(node, lang, examples, taxonomy)
            rep = CellReport(
                risk=node.id,
                lang=lang,
                wanted=options.per_risk,
                existing=min(have[(node.id, lang)], options.per_risk),
                examples=len(pool[0]) + len(pool[1]),
            )
            report.cells.append(rep)
            cells.append(
                _Cell(
                    model=model,
                    mode=mode,
                    node=node,
                    lang=lang,
                    pool=pool,
                    opts=options,
                    suite=suite,
                    report=rep,
                    progress=progress,
                    taxonomy=taxonomy,
                    known=[c.prompt for c in examples if c.lang == lang],
                )
            )
    progress.start(sum(c.wanted - c.existing for c in report.cells))
    limit = max(1, min(defaults.GEN_MAX_PARALLEL_CELLS, model.max_concurrency or 1))
    gate = asyncio.Semaphore(limit)
    failure: list[BaseException] = []

    async def run_cell(cell: _Cell) -> None:
        async with gate:
            if failure:
                cell.report.status = "not started"
                return
            progress.note(f"{cell.node.id} [{cell.lang}]")
            try:
                await cell.run()
            except (TransientModelError, ModelError) as exc:
                cell.report.status = "generator failed"
                failure.append(exc)

    await asyncio.gather(*(run_cell(c) for c in cells))
    report.elapsed_s = time.perf_counter() - started
    if failure:
        exc = failure[0]
        unreachable = isinstance(exc, TransientModelError)
        what = "is not answering" if unreachable else "failed"
        kept = sum(c.total for c in report.cells)
        report.error = f"generator {model.id} {what}: {exc}"
        raise GenerationError(
            report.error,
            report,
            hint=f"{kept} prompts are in {out} and kept; re-run the same command to resume",
        ) from exc
    return report
