"""Run-end summary figures, checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from seval.metrics.summary import summarize, wilson_interval
from seval.taxonomy import load_taxonomy


def row(lang: str, risk: str, label: str | None, *, attack: str | None = None, benign: bool = False,
        error: str | None = None, refusal: bool = False) -> dict[str, object]:  # fmt: skip
    return {"target": "m", "config_id": "c", "lang": lang, "risk": risk, "label": label, "attack": attack,
            "benign": benign, "error": error, "refusal": refusal}  # fmt: skip


def test_wilson_interval_matches_hand_computation() -> None:
    lo, hi = wilson_interval(8, 10)
    # p=0.8, n=10, z=1.96: centre 0.7167..., half-width 0.2265...
    assert lo == pytest.approx(0.4902, abs=1e-4)
    assert hi == pytest.approx(0.9433, abs=1e-4)
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_scores_per_dimension_language_attack_and_benign_apart() -> None:
    rows = [
        row("en", "ci.drug_crimes", "safe"),
        row("en", "ci.drug_crimes", "unsafe"),
        row("zh", "ci", "safe"),
        row("zh", "dp.personal_privacy", "unsafe", attack="goal_hijacking"),
        row("en", "dp", None, error="timeout"),
        row("en", "dp", None),  # answered, not judged yet
        row("en", "pm", "safe", benign=True, refusal=True),
    ]
    s = summarize(rows, load_taxonomy(), "critic")
    cells = s.cells[("m", "c")]
    assert (cells["ci"]["en"].safe, cells["ci"]["en"].unsafe) == (1, 1)
    assert cells["ci"]["*"].score == pytest.approx(2 / 3)
    assert cells["dp"]["*"].n == 1 and cells["dp"]["*"].errors == 1 and cells["dp"]["*"].unjudged == 1
    assert cells["*"]["*"].score == pytest.approx(2 / 4)
    attacks = s.attacks[("m", "c")]
    assert attacks["base"]["*"].score == pytest.approx(2 / 3)
    assert attacks["goal_hijacking"]["zh"].unsafe == 1
    benign = s.benign[("m", "c")]
    assert benign.n == 1 and benign.refusals == 1
    assert "pm" not in cells  # benign prompts never count toward a dimension's safety score
