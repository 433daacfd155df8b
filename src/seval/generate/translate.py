"""Translation pairing: the parallel prompt in the other language, linked as S-Eval links zh and en.

For each generated prompt that has no partner yet, the translator (the generator unless another model
is named) writes the prompt in the other language. The translation is its own TestCase (origin
"generated", same risk, `meta.generation.translated_from` = the source id) and the two are linked by
`pair_id` both ways, the convention of the seed suite and of S-Eval's `from_traceid`.

Translations are appended as they come, so a crash loses at most one call; the source rows get their
`pair_id` in one atomic rewrite at the end, and a re-run links translations already in the file without
asking again.

Base models get a parallel-text document (a few seed pairs, then the prompt and the other language's
label) and stop at the line end; instruction models get a plain translation instruction.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from seval import defaults
from seval.errors import ModelError, TransientModelError
from seval.generate import prompts
from seval.generate.generator import (
    GenerationProgress,
    Mode,
    NoProgress,
    call_with_retries,
    default_examples,
    resolve_mode,
)
from seval.generate.parse import check_prompt, clean_item, normalize
from seval.generate.suitefile import SuiteFile, generation_meta, is_native
from seval.models.base import ChatModel, CompletionModel, split_reasoning
from seval.records import GenerationConfig, ModelOutput, TestCase, stable_hash

OTHER_LANG = {"zh": "en", "en": "zh"}
# Length of a translation relative to its source (characters), outside of which it is not one.
LENGTH_RATIO = {("en", "zh"): (0.1, 1.5), ("zh", "en"): (0.8, 10.0)}


@dataclass
class PairReport:
    """How pairing went: new translations, links to translations already in the file, failures."""

    translated: int = 0
    linked_existing: int = 0
    calls: int = 0
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def parallel_pairs(examples: Sequence[TestCase], source: str, target: str) -> list[tuple[str, str]]:
    """(source text, target text) of the linked zh/en examples (the seed suite's parallel prompts)."""
    by_id = {c.id: c for c in examples}
    out: list[tuple[str, str]] = []
    for case in examples:
        partner = by_id.get(case.pair_id or "")
        if case.lang == source and partner is not None and partner.lang == target and not case.benign:
            out.append((case.prompt, partner.prompt))
    return out


def check_translation(text: str, source: TestCase, target: str) -> str | None:
    """Why `text` is not a usable translation of `source` into `target`, or None."""
    reason = check_prompt(text, target)
    if reason is not None:
        return reason
    if normalize(text) == normalize(source.prompt):
        return "copy of the source"
    low, high = LENGTH_RATIO.get((source.lang, target), (0.1, 10.0))
    ratio = len(text) / max(1, len(source.prompt))
    if not low <= ratio <= high:
        return "length unlike the source"
    return None


class Translator:
    """Translates one prompt into the other language with a chat or a completion call."""

    def __init__(
        self,
        model: ChatModel,
        *,
        mode: str = "auto",
        examples: Sequence[TestCase] | None = None,
        seed: int = defaults.GEN_SEED,
        retries: int = defaults.GEN_MAX_RETRIES,
        backoff_s: float = defaults.GEN_BACKOFF_S,
    ) -> None:
        self.model = model
        self.mode: Mode = resolve_mode(model, mode)
        self.examples = list(examples) if examples is not None else default_examples()
        self.seed, self.retries, self.backoff_s = seed, retries, backoff_s
        self.calls = 0

    async def translate(self, case: TestCase) -> tuple[str | None, str | None, dict[str, object]]:
        """(translation, why it failed, provenance) for `case` into the other language."""
        target = OTHER_LANG[case.lang]
        reason: str | None = None
        for attempt in range(defaults.GEN_TRANSLATE_ATTEMPTS):
            seed = int(stable_hash({"seed": self.seed, "t": case.id, "a": attempt}, 8), 16) % 2**31
            config = GenerationConfig(
                temperature=defaults.GEN_TRANSLATE_TEMPERATURE if attempt == 0 else 0.3,
                max_tokens=defaults.GEN_TRANSLATE_MAX_TOKENS,
                seed=seed,
                stop=prompts.TRANSLATION_STOPS if self.mode == "list" else (),
            )
            call: Callable[[], Awaitable[ModelOutput]]
            if self.mode == "list":
                pairs = parallel_pairs(self.examples, case.lang, target)
                shots = random.Random(seed).sample(pairs, min(defaults.GEN_TRANSLATE_FEW_SHOT, len(pairs)))
                document = prompts.translation_document(case.prompt, case.lang, target, shots)
                assert isinstance(self.model, CompletionModel)
                call = functools.partial(self.model.complete, document, config)
            else:
                messages = prompts.translation_messages(case.prompt, case.lang, target)
                call = functools.partial(self.model.generate, messages, config)
            self.calls += 1
            out = await call_with_retries(call, self.retries, self.backoff_s)
            text, _ = split_reasoning(out.text)
            text = clean_item(text.strip().split("\n")[0] if self.mode == "list" else text)
            if out.finish_reason == "length":
                reason = "truncated"
                continue
            reason = check_translation(text, case, target)
            if reason is None:
                provenance: dict[str, object] = {
                    "generator": self.model.id,
                    "mode": f"translate-{self.mode}",
                    "template_version": prompts.TEMPLATE_VERSION,
                    "translated_from": case.id,
                    "config": {"temperature": config.temperature, "seed": seed},
                    "attempt": attempt,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
                return text, None, provenance
        return None, reason, {}


async def pair_translations(
    translator: Translator,
    out: str | Path,
    *,
    risks: Sequence[str] | None = None,
    langs: Sequence[str] | None = None,
    progress: GenerationProgress | None = None,
) -> PairReport:
    """Give every generated prompt in `out` (of `risks` and `langs`, default all) its translation.

    Raises ModelError when the translator fails for good; translations already appended are kept and
    linked on the next run.
    """
    suite = SuiteFile(Path(out))
    progress = progress or NoProgress()
    report = PairReport()
    by_id = {c.id: c for c in suite.cases}
    translations = {
        str(generation_meta(c)["translated_from"]): c
        for c in suite.cases
        if c.origin == "generated" and "translated_from" in generation_meta(c)
    }
    todo = [
        c
        for c in suite.cases
        if is_native(c)
        and c.lang in OTHER_LANG
        and (c.pair_id is None or c.pair_id not in by_id)
        and (risks is None or c.risk in risks)
        and (langs is None or c.lang in langs)
    ]
    progress.start(len(todo))
    links: dict[str, TestCase] = {}
    reasons: dict[str, int] = {}
    try:
        for case in todo:
            partner = translations.get(case.id)
            if partner is not None:
                report.linked_existing += 1
            else:
                before = translator.calls
                try:
                    text, reason, provenance = await translator.translate(case)
                finally:
                    report.calls += translator.calls - before
                target = OTHER_LANG[case.lang]
                if text is not None and TestCase.make_id(target, text) in suite.ids:
                    text, reason = None, "already in the suite"
                if text is None:
                    report.failed += 1
                    reasons[reason or "unknown"] = reasons.get(reason or "unknown", 0) + 1
                    progress.advance(1)
                    continue
                partner = TestCase(
                    id=TestCase.make_id(target, text),
                    lang=target,
                    risk=case.risk,
                    prompt=text,
                    origin="generated",
                    pair_id=case.id,
                    meta={"generation": provenance},
                )
                suite.append([partner])
                report.translated += 1
            links[case.id] = case.model_copy(update={"pair_id": partner.id})
            progress.advance(1)
    except (TransientModelError, ModelError):
        if links:
            suite.replace(links)
        raise
    finally:
        report.reasons = reasons
    if links:
        suite.replace(links)
    return report
