"""Test selection: keep the generated prompts that are well formed, distinct, spread out and hard.

S-Eval's testing LLM writes many candidate prompts per risk; a small base model loops, truncates, drifts
off topic and repeats itself. Selection strategies, composed in the order the user gives, turn such a
batch into a suite:

    quality    drop malformed, wrong-language, truncated, looping, answer-like and off-topic prompts
    dedup      drop exact and near duplicates (MinHash + LSH, verified), also against an existing suite
    diversity  order each risk's prompts for spread (MMR over n-gram vectors), drop near-paraphrases
    difficulty order by evidence that a prompt elicits unsafe answers from reference models

then a per-risk, per-language budget keeps the first K of the final order, and a coverage report says
what each step removed and why.

    from seval.select import SelectConfig, select_cases
    result = select_cases(cases, SelectConfig(strategies=("quality", "dedup", "diversity"), budget=20))

Selection's thresholds live in `seval.defaults` with the rest of seval's defaults; they are re-exported
here because every selection module reads them from this package.
"""

from __future__ import annotations

from seval.select.dedup import DedupDoc, find_duplicates
from seval.select.difficulty import DifficultyEvidence, evidence_from_run, evidence_from_scores
from seval.select.pipeline import (
    CoverageReport,
    Dropped,
    SelectConfig,
    SelectionResult,
    parse_strategies,
    select_cases,
)
from seval.select.quality import QUALITY_REASONS, assess
from seval.select.topic import TopicModel

__all__ = [
    "QUALITY_REASONS",
    "CoverageReport",
    "DedupDoc",
    "DifficultyEvidence",
    "Dropped",
    "SelectConfig",
    "SelectionResult",
    "TopicModel",
    "assess",
    "evidence_from_run",
    "evidence_from_scores",
    "find_duplicates",
    "parse_strategies",
    "select_cases",
]
