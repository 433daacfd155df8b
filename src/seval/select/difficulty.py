"""Difficulty: prefer prompts that made reference models answer unsafely, as judged by the critic.

S-Eval keeps the prompts that expose risk. This module never calls a model: it takes evidence that a
run already gathered (the prompts put to reference models and their verdicts), either as a mapping
test id -> risk scores, or from a run store (`RunStore.joined_rows(critic)`). A prompt's difficulty is
w * (share of unsafe verdicts) + (1 - w) * (mean risk score); prompts without evidence rank after all
prompts with evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seval.defaults import DIFFICULTY_UNSAFE_WEIGHT, UNSAFE_THRESHOLD
from seval.engine.store import RunStore
from seval.errors import DataError
from seval.select.text import exact_key

__all__ = [
    "DifficultyEvidence",
    "Evidence",
    "evidence_from_rows",
    "evidence_from_run",
    "evidence_from_scores",
]


@dataclass
class Evidence:
    """Verdicts on the responses to one prompt."""

    scores: list[float] = field(default_factory=list)
    unsafe: int = 0

    @property
    def n(self) -> int:
        return len(self.scores)

    @property
    def mean_score(self) -> float:
        return sum(self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def unsafe_share(self) -> float:
        return self.unsafe / len(self.scores) if self.scores else 0.0

    def difficulty(self, weight: float = DIFFICULTY_UNSAFE_WEIGHT) -> float:
        return weight * self.unsafe_share + (1 - weight) * self.mean_score

    def meta(self) -> dict[str, Any]:
        return {
            "score": round(self.difficulty(), 4),
            "n": self.n,
            "unsafe_share": round(self.unsafe_share, 4),
            "mean_risk_score": round(self.mean_score, 4),
        }


@dataclass
class DifficultyEvidence:
    """Evidence by test id, plus a content index so that a prompt re-imported under another id (or
    cleaned of a list prefix) still finds its verdicts."""

    by_id: dict[str, Evidence]
    by_content: dict[tuple[str, str], str] = field(default_factory=dict)  # (lang, exact key) -> test id
    source: str = "scores"
    critic: str | None = None

    def lookup(self, test_id: str, lang: str, prompt: str) -> Evidence | None:
        ev = self.by_id.get(test_id)
        if ev is None:
            other = self.by_content.get((lang, exact_key(prompt)))
            ev = self.by_id.get(other) if other is not None else None
        return ev


def evidence_from_scores(
    mapping: Mapping[str, Sequence[float]], threshold: float = UNSAFE_THRESHOLD
) -> DifficultyEvidence:
    """Evidence from test id -> risk scores in [0, 1]; a score at or above `threshold` counts as unsafe."""
    by_id: dict[str, Evidence] = {}
    for test_id, scores in mapping.items():
        values = [float(s) for s in scores]
        bad = [s for s in values if not 0.0 <= s <= 1.0]
        if bad:
            raise DataError(f"difficulty evidence for {test_id!r}: risk score {bad[0]} is outside [0, 1]")
        by_id[test_id] = Evidence(values, sum(s >= threshold for s in values))
    return DifficultyEvidence(by_id)


def evidence_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, Evidence]:
    """Evidence from `RunStore.joined_rows` rows: responses with an error or without a verdict of the
    critic are skipped; the label decides unsafe (so a critic's own threshold and band are respected)."""
    by_id: dict[str, Evidence] = {}
    for row in rows:
        if row.get("error") or row.get("risk_score") is None or row.get("label") in (None, "error"):
            continue
        ev = by_id.setdefault(str(row["test_id"]), Evidence())
        ev.scores.append(float(row["risk_score"]))
        ev.unsafe += row["label"] == "unsafe"
    return by_id


def evidence_from_run(run_dir: Path, critic: str | None = None) -> DifficultyEvidence:
    """Evidence from a stored run: the verdicts of `critic` (an id or its prefix; default the most
    recently judged critic) on every response of the run."""
    from seval.engine.critique import pick_critic  # the one place that resolves critic prefixes

    if not (Path(run_dir) / RunStore.FILENAME).is_file():
        raise DataError(f"{run_dir}: not a run folder (no {RunStore.FILENAME})")
    with RunStore.open_dir(Path(run_dir)) as store:
        chosen = pick_critic(store, critic)
        if chosen is None:
            raise DataError(f"{run_dir}: the run has no verdicts yet", hint="judge it with `seval critique`")
        by_id = evidence_from_rows(store.joined_rows(chosen))
        by_content = {(t.lang, exact_key(t.prompt)): t.id for t in store.tests() if t.id in by_id}
    return DifficultyEvidence(by_id, by_content, source=str(run_dir), critic=chosen)
