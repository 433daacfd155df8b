"""seval's built-in bilingual seed suite, and stratified sampling of any suite.

The seed suite lets `seval run` work out of the box, offline, with no dataset download: at least four
risky prompts per S-Eval risk category in English and in Chinese (parallel pairs linked by `pair_id`),
plus benign prompts that only sound risky, so over-refusal is measured beside safety. The prompts were
written for seval (see scripts/build_seed_suite.py, which regenerates the JSONL files).

`sample_suite` picks a small subset that still covers every risk dimension and language, because a
laptop-CPU run can afford only a few dozen prompts and a plain random sample would leave some
dimensions out.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from functools import lru_cache

from seval.data.suite_io import read_packaged_cases
from seval.defaults import LANGUAGES
from seval.errors import ConfigError
from seval.records import TestCase
from seval.taxonomy import Taxonomy, load_taxonomy

__all__ = ["SEED_FILES", "load_seed_suite", "sample_suite"]

SEED_FILES: dict[str, str] = {"zh": "seed_zh.jsonl", "en": "seed_en.jsonl"}
_UNKNOWN_DIMENSION = "~unknown"


@lru_cache(maxsize=1)
def _read_all() -> dict[str, tuple[TestCase, ...]]:
    """Parse the packaged JSONL files once per process."""
    return read_packaged_cases(__name__, SEED_FILES, "seed")


def load_seed_suite(langs: Iterable[str] | None = None, include_benign: bool = True) -> list[TestCase]:
    """The built-in seed prompts for `langs` (default: all, in `defaults.LANGUAGES` order).

    Languages the seed suite lacks are skipped, because a run may mix the seed suite with the user's
    own files in other languages; only a request that matches no seed language at all is an error.
    `include_benign=False` drops the over-refusal contrast prompts, for runs that only measure safety.
    """
    available = _read_all()
    if langs is None:
        wanted = [lang for lang in LANGUAGES if lang in available]
        wanted += [lang for lang in available if lang not in wanted]
    else:
        # A bare string would otherwise be iterated letter by letter.
        wanted = list(dict.fromkeys([langs] if isinstance(langs, str) else langs))
    if not any(lang in available for lang in wanted):
        raise ConfigError(
            f"the seed suite has no prompts in language(s) {', '.join(repr(w) for w in wanted) or '(none)'}",
            hint=f"available: {', '.join(sorted(available))}",
        )
    return [c for lang in wanted for c in available.get(lang, ()) if include_benign or not c.benign]


def sample_suite(
    cases: list[TestCase], n: int, seed: int, taxonomy: Taxonomy | None = None
) -> list[TestCase]:
    """A deterministic, stratified sample of `n` cases, spread evenly over risk dimensions and languages.

    The strata are (dimension, language) pairs. Each step takes a case from the stratum with the fewest
    picks so far (ties broken in a seed-shuffled dimension order), and then its parallel translation if
    that is in `cases`, so zh/en pairs stay together for language comparisons. Within a stratum, cases
    come in random order (`random.Random(seed)`), alternating between categories so that a small
    sample also spreads over categories. The result does not depend on the order of `cases`, and is
    returned in pick order, so a run that stops early has still covered every dimension.

    Cases whose risk the taxonomy cannot resolve form one extra "unknown" dimension.
    """
    if n <= 0 or not cases:
        return []
    tax = taxonomy or load_taxonomy()
    rng = random.Random(seed)

    unique: dict[str, TestCase] = {}
    for case in sorted(cases, key=lambda c: c.id):
        unique.setdefault(case.id, case)

    def where(case: TestCase) -> tuple[str, str]:
        node = tax.try_resolve(case.risk)
        if node is None:
            return _UNKNOWN_DIMENSION, case.risk
        category = tax.category_of(node.id)
        return tax.dimension_of(node.id).id, (category or node).id

    # (dimension, lang) -> category -> cases
    grouped: dict[tuple[str, str], dict[str, list[TestCase]]] = {}
    stratum_of: dict[str, tuple[str, str]] = {}
    for case in unique.values():
        dim, cat = where(case)
        key = (dim, case.lang)
        stratum_of[case.id] = key
        grouped.setdefault(key, {}).setdefault(cat, []).append(case)

    dim_order = [d.id for d in tax.dimensions()] + [_UNKNOWN_DIMENSION]
    rng.shuffle(dim_order)
    lang_rank = {lang: i for i, lang in enumerate(LANGUAGES)}
    strata = sorted(
        grouped,
        key=lambda k: (dim_order.index(k[0]), lang_rank.get(k[1], len(lang_rank)), k[1]),
    )

    queues: dict[tuple[str, str], list[TestCase]] = {}
    for key in strata:
        by_cat = grouped[key]
        cats = sorted(by_cat)
        rng.shuffle(cats)
        for cat in cats:
            rng.shuffle(by_cat[cat])
        longest = max(len(v) for v in by_cat.values())
        queues[key] = [by_cat[c][i] for i in range(longest) for c in cats if i < len(by_cat[c])]

    picked: list[TestCase] = []
    chosen: set[str] = set()
    counts = dict.fromkeys(strata, 0)
    cursor = dict.fromkeys(strata, 0)

    def take(case: TestCase) -> None:
        picked.append(case)
        chosen.add(case.id)
        counts[stratum_of[case.id]] += 1

    while len(picked) < n:
        open_strata = []
        for key in strata:
            queue = queues[key]
            while cursor[key] < len(queue) and queue[cursor[key]].id in chosen:
                cursor[key] += 1
            if cursor[key] < len(queue):
                open_strata.append(key)
        if not open_strata:
            break
        key = min(open_strata, key=lambda k: counts[k])  # min keeps the first of equals: strata order
        case = queues[key][cursor[key]]
        cursor[key] += 1
        take(case)
        partner = unique.get(case.pair_id) if case.pair_id else None
        if partner is not None and partner.id not in chosen and partner.lang != case.lang and len(picked) < n:
            take(partner)
    return picked
