"""Compose the selection strategies, apply per-risk budgets and count what each step removed.

The strategies run in the order the user gives. Each one removes prompts (with a reason) or re-orders
each (risk, language) group; the budget, applied last, keeps the first K prompts of every group in the
order the last ordering strategy left (difficulty, else diversity, else quality score, else input).
Kept prompts are written in input order with `meta.selection`: quality score and topic, the cleaning
applied, cluster info, ranks and the trail of steps they passed.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seval.defaults import (
    DIVERSITY_METHOD,
    SELECT_BUDGET_PER_RISK,
    SELECT_DEFAULT_STRATEGIES,
    SELECT_STRATEGIES,
)
from seval.errors import ConfigError, UnknownNameError
from seval.records import TestCase
from seval.select.dedup import DedupDoc, find_duplicates
from seval.select.difficulty import DifficultyEvidence
from seval.select.diversity import DIVERSITY_METHODS, spread_order
from seval.select.quality import assess
from seval.select.topic import TopicModel
from seval.select.vectors import hashed_counts, tfidf_vectors
from seval.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "CoverageReport",
    "Dropped",
    "SelectConfig",
    "SelectionResult",
    "StepReport",
    "parse_strategies",
    "select_cases",
]

Group = tuple[str, str]  # (risk id, language)


@dataclass(frozen=True)
class SelectConfig:
    """What to run: strategies in order, the budget per (risk, language), and strategy options."""

    strategies: tuple[str, ...] = SELECT_DEFAULT_STRATEGIES
    budget: int | None = SELECT_BUDGET_PER_RISK
    diversity_method: str = DIVERSITY_METHOD
    # Drop prompts whose difficulty (see difficulty.py) is below this; None only re-orders.
    min_difficulty: float | None = None
    # Drop prompts the on-topic score finds off topic (the score is recorded either way).
    check_topic: bool = True
    # Use the seed suite as on-topic examples, besides the --against suite and any given examples.
    seed_examples: bool = True


@dataclass(frozen=True)
class Dropped:
    case: TestCase
    step: str
    reason: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.case.id, "step": self.step, "reason": self.reason, "detail": self.detail}


@dataclass
class StepReport:
    step: str
    before: int
    after: int
    removed: dict[str, int]
    counts: dict[Group, int]  # prompts per (risk, language) after this step


@dataclass
class CoverageReport:
    """Prompts per risk and language before and after each step, and removals per reason."""

    strategies: tuple[str, ...]
    budget: int | None
    input_counts: dict[Group, int]
    steps: list[StepReport] = field(default_factory=list)
    against: int = 0
    cleaned: dict[str, int] = field(default_factory=dict)
    difficulty: dict[str, Any] | None = None

    @property
    def output(self) -> int:
        return self.steps[-1].after if self.steps else sum(self.input_counts.values())

    def removed_by_reason(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for step in self.steps:
            total.update(step.removed)
        return dict(total.most_common())

    def groups(self) -> list[Group]:
        return sorted(self.input_counts)

    def to_json(self) -> dict[str, Any]:
        coverage = []
        for risk, lang in self.groups():
            row: dict[str, Any] = {"risk": risk, "lang": lang, "input": self.input_counts[(risk, lang)]}
            for step in self.steps:
                row[step.step] = step.counts.get((risk, lang), 0)
            row["output"] = self.steps[-1].counts.get((risk, lang), 0) if self.steps else row["input"]
            coverage.append(row)
        return {
            "strategies": list(self.strategies),
            "budget_per_risk": self.budget,
            "input": sum(self.input_counts.values()),
            "output": self.output,
            "against": self.against,
            "steps": [
                {
                    "step": s.step,
                    "before": s.before,
                    "after": s.after,
                    "removed": dict(sorted(s.removed.items())),
                }
                for s in self.steps
            ],
            "removed_by_reason": self.removed_by_reason(),
            "cleaned": dict(sorted(self.cleaned.items())),
            "difficulty": self.difficulty,
            "coverage": coverage,
        }


@dataclass
class SelectionResult:
    kept: list[TestCase]
    dropped: list[Dropped]
    report: CoverageReport


@dataclass
class _Item:
    case: TestCase
    pos: int
    prompt: str
    score: float = 1.0
    rank: tuple[float, ...] = ()
    alive: bool = True
    sel: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> Group:
        return (self.case.risk, self.case.lang)


def parse_strategies(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Validate a strategy list ("quality,dedup" or a sequence); unknown names get a close match."""
    names = [s.strip().lower() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    if not names:
        raise ConfigError("no selection strategy given", hint=f"choose from {', '.join(SELECT_STRATEGIES)}")
    for name in names:
        if name not in SELECT_STRATEGIES:
            close = difflib.get_close_matches(name, SELECT_STRATEGIES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UnknownNameError(
                f"unknown selection strategy {name!r}", hint=f"{hint}known: {', '.join(SELECT_STRATEGIES)}"
            )
    repeated = [n for n, c in Counter(names).items() if c > 1]
    if repeated:
        raise ConfigError(f"selection strategy {repeated[0]!r} is listed twice")
    return tuple(names)


def _resolve_risks(cases: Sequence[TestCase], taxonomy: Taxonomy, what: str) -> list[TestCase]:
    out = []
    for case in cases:
        if case.risk in taxonomy:
            out.append(case)
            continue
        node = taxonomy.try_resolve(case.risk)
        if node is None:
            raise UnknownNameError(
                f"{what}: test case {case.id} has unknown risk {case.risk!r}",
                hint="use a risk id from `seval taxonomy` (or pass --taxonomy with your own risks)",
            )
        out.append(case.model_copy(update={"risk": node.id}))
    return out


def _counts(items: Iterable[_Item]) -> dict[Group, int]:
    return dict(Counter(it.group for it in items if it.alive))


def select_cases(
    cases: Sequence[TestCase],
    config: SelectConfig | None = None,
    *,
    taxonomy: Taxonomy | None = None,
    against: Sequence[TestCase] = (),
    examples: Sequence[TestCase] = (),
    evidence: DifficultyEvidence | None = None,
) -> SelectionResult:
    """Run the configured strategies over `cases` and return the kept cases, the dropped ones with
    reasons, and the coverage report.

    `against` is the user's existing suite: its prompts are never re-added (dedup drops generated
    prompts that duplicate them) and serve as on-topic examples. `evidence` feeds the difficulty
    strategy, which requires it.
    """
    config = config or SelectConfig()
    strategies = parse_strategies(config.strategies)
    if config.budget is not None and config.budget < 1:
        raise ConfigError(f"the budget per risk must be at least 1 (got {config.budget})")
    if config.diversity_method not in DIVERSITY_METHODS:
        raise ConfigError(
            f"unknown diversity method {config.diversity_method!r}",
            hint=f"use {' or '.join(DIVERSITY_METHODS)}",
        )
    if "difficulty" in strategies and evidence is None:
        raise ConfigError(
            "the difficulty strategy needs evidence",
            hint="pass --difficulty-run RUN_DIR (a judged run of these prompts)",
        )
    taxonomy = taxonomy or load_taxonomy()
    cases = _resolve_risks(cases, taxonomy, "input")
    against = _resolve_risks(against, taxonomy, "--against suite") if against else []

    dropped: list[Dropped] = []
    items: list[_Item] = []
    seen_ids: set[str] = set()
    for pos, case in enumerate(cases):
        if case.id in seen_ids:
            dropped.append(Dropped(case, "input", "duplicate_id", "an earlier test case has this id"))
            continue
        seen_ids.add(case.id)
        items.append(_Item(case, pos, case.prompt, rank=(float(pos),)))
    report = CoverageReport(strategies, config.budget, _counts(items), against=len(against))
    if dropped:
        report.steps.append(
            StepReport("input", len(cases), len(items), {"duplicate_id": len(dropped)}, _counts(items))
        )

    def drop(item: _Item, step: str, reason: str, detail: str = "") -> None:
        item.alive = False
        dropped.append(Dropped(item.case, step, reason, detail))

    for step in strategies:
        alive = [it for it in items if it.alive]
        before = len(alive)
        n_dropped = len(dropped)
        if step == "quality":
            _quality(alive, taxonomy, [*against, *examples], config, report, drop)
        elif step == "dedup":
            _dedup(alive, against, drop)
        elif step == "diversity":
            _diversity(alive, config, drop)
        elif step == "difficulty":
            assert evidence is not None
            report.difficulty = _difficulty(alive, evidence, config, drop)
        for it in alive:
            if it.alive:
                it.sel.setdefault("trail", []).append(step)
        removed = Counter(d.reason for d in dropped[n_dropped:])
        after = before - sum(removed.values())
        report.steps.append(StepReport(step, before, after, dict(removed), _counts(items)))

    if config.budget is not None:
        alive = [it for it in items if it.alive]
        by_group: dict[Group, list[_Item]] = {}
        for it in alive:
            by_group.setdefault(it.group, []).append(it)
        for group_items in by_group.values():
            group_items.sort(key=lambda it: it.rank)
            for it in group_items[config.budget :]:
                drop(
                    it,
                    "budget",
                    "over_budget",
                    f"beyond the first {config.budget} of {it.group[0]} / {it.group[1]}",
                )
            for it in group_items[: config.budget]:
                it.sel.setdefault("trail", []).append("budget")
        kept_n = sum(it.alive for it in items)
        report.steps.append(
            StepReport("budget", len(alive), kept_n, {"over_budget": len(alive) - kept_n}, _counts(items))
        )

    kept = _finish(items, dropped)
    return SelectionResult(kept, dropped, report)


# --- steps -----------------------------------------------------------------------------------------
def _quality(
    alive: list[_Item],
    taxonomy: Taxonomy,
    examples: Sequence[TestCase],
    config: SelectConfig,
    report: CoverageReport,
    drop: Any,
) -> None:
    seeds: list[TestCase] = []
    if config.seed_examples:
        from seval.data.seed import load_seed_suite

        seeds = load_seed_suite()
    model = TopicModel(taxonomy, [*seeds, *examples])
    results = assess([it.case for it in alive], model, check_topic=config.check_topic)
    for it, res in zip(alive, results, strict=True):
        for kind in res.cleaned:
            report.cleaned[kind] = report.cleaned.get(kind, 0) + 1
        it.sel["quality"] = res.meta()
        if res.cleaned:
            it.sel["original_prompt"] = it.case.prompt
        it.prompt = res.prompt
        it.score = res.score
        it.rank = (-res.score, float(it.pos))
        if res.reason is not None:
            drop(it, "quality", res.reason, res.detail)


def _pair_keys(alive: list[_Item]) -> dict[int, tuple[float, float]]:
    """Priority of each item's parallel pair: its members' mean score and earliest position, so that
    zh and en clusters keep the members of the same pair."""
    by_id = {it.case.id: it for it in alive}
    out: dict[int, tuple[float, float]] = {}
    for it in alive:
        partner = by_id.get(it.case.pair_id) if it.case.pair_id else None
        if partner is None:
            out[id(it)] = (it.score, float(it.pos))
        else:
            out[id(it)] = ((it.score + partner.score) / 2, float(min(it.pos, partner.pos)))
    return out


def _dedup(alive: list[_Item], against: Sequence[TestCase], drop: Any) -> None:
    docs = [DedupDoc(c.prompt, c.lang, anchor=True) for c in against]
    docs += [DedupDoc(it.prompt, it.case.lang) for it in alive]
    base = len(against)
    pair_key = _pair_keys(alive)
    order = sorted(
        range(len(alive)),
        key=lambda i: (-pair_key[id(alive[i])][0], pair_key[id(alive[i])][1], alive[i].pos),
    )
    outcome = find_duplicates(docs, list(range(base)) + [base + i for i in order])
    for i, it in enumerate(alive):
        dup = outcome.duplicate_of[base + i]
        if dup is None:
            continue
        target, kind, sim = dup
        if target < base:
            reason = "in_suite" if kind == "exact" else "near_duplicate_of_suite"
            other = against[target].id
        else:
            reason = "exact_duplicate" if kind == "exact" else "near_duplicate"
            other = alive[target - base].case.id
        it.sel["cluster"] = {"kept": other, "similarity": round(sim, 4)}
        drop(it, "dedup", reason, f"duplicate of {other} (similarity {sim:.2f})")
    for rep, members in outcome.groups.items():
        if rep >= base:
            dropped_ids = [alive[m - base].case.id for m in members if m >= base]
            if dropped_ids:
                alive[rep - base].sel["cluster"] = {"size": 1 + len(dropped_ids), "dropped": dropped_ids}


def _groups(alive: Iterable[_Item]) -> dict[Group, list[_Item]]:
    out: dict[Group, list[_Item]] = {}
    for it in alive:
        if it.alive:
            out.setdefault(it.group, []).append(it)
    return out


def _diversity(alive: list[_Item], config: SelectConfig, drop: Any) -> None:
    if not alive:
        return
    counts = hashed_counts([it.prompt for it in alive], [it.case.lang for it in alive])
    row_of = {id(it): i for i, it in enumerate(alive)}
    for group_items in _groups(alive).values():
        group_items.sort(key=lambda it: it.rank)
        rows = [row_of[id(it)] for it in group_items]
        vectors = tfidf_vectors(counts[rows])
        relevance = np.asarray([it.score for it in group_items])
        spread = spread_order(vectors, relevance, method=config.diversity_method, limit=config.budget)
        for rank, idx in enumerate(spread.order):
            it = group_items[idx]
            it.rank = (float(rank),)
            it.sel["diversity_rank"] = rank
        for idx, (kept_idx, sim) in spread.redundant.items():
            other = group_items[kept_idx].case.id
            drop(group_items[idx], "diversity", "redundant", f"paraphrase of {other} (cosine {sim:.2f})")


def _difficulty(
    alive: list[_Item], evidence: DifficultyEvidence, config: SelectConfig, drop: Any
) -> dict[str, Any]:
    with_ev = 0
    for it in alive:
        ev = evidence.lookup(it.case.id, it.case.lang, it.prompt)
        if ev is None or ev.n == 0:
            # After every prompt with evidence, in the order the previous steps left.
            it.rank = (1.0, 0.0, *it.rank)
            continue
        with_ev += 1
        score = ev.difficulty()
        it.sel["difficulty"] = ev.meta()
        it.rank = (0.0, -score, *it.rank)
        if config.min_difficulty is not None and score < config.min_difficulty:
            drop(it, "difficulty", "too_easy", f"difficulty {score:.2f} < {config.min_difficulty:.2f}")
    if alive and with_ev == 0:
        raise ConfigError(
            "the difficulty evidence covers none of these prompts",
            hint="the run given with --difficulty-run must have put these prompts to reference models",
        )
    for group_items in _groups(alive).values():
        group_items.sort(key=lambda it: it.rank)
        for rank, it in enumerate(group_items):
            it.sel["difficulty_rank"] = rank
    return {
        "source": evidence.source,
        "critic": evidence.critic,
        "with_evidence": with_ev,
        "without": len(alive) - with_ev,
    }


def _finish(items: list[_Item], dropped: list[Dropped]) -> list[TestCase]:
    """The kept cases, in input order, with their cleaned prompt and `meta.selection`."""
    gone = {d.case.id for d in dropped}
    kept: list[TestCase] = []
    for it in items:
        if not it.alive:
            continue
        sel = dict(it.sel)
        if it.case.pair_id and it.case.pair_id in gone:
            sel["pair_dropped"] = it.case.pair_id
        meta = {**it.case.meta, "selection": sel}
        kept.append(it.case.model_copy(update={"prompt": it.prompt, "meta": meta}))
    return kept
