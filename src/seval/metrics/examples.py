"""Example unsafe answers for the report's drill-down: the most confidently unsafe per system and risk
dimension, with the critic's explanation.

Ranking happens on the frame's columns; only the few chosen rows are read back with their texts, so a
store of millions of answers costs one indexed lookup per example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson

from seval import defaults
from seval.engine.store import RunStore
from seval.metrics.frame import UNSAFE, RunFrame

_FETCH_SQL = """
SELECT r.rowid, json_extract(t.record, '$.prompt'), r.answer, v.explanation, v.tags, t.attack, t.lang, t.risk
FROM responses r JOIN tests t ON t.id = r.test_id
LEFT JOIN verdicts v ON v.response_key = r.key AND v.critic = ?
WHERE r.rowid IN ({marks})
"""


def _clip(text: str | None, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def unsafe_examples(
    frame: RunFrame,
    *,
    per_dimension: int = defaults.REPORT_EXAMPLES_PER_DIMENSION,
    max_chars: int = defaults.REPORT_EXAMPLE_CHARS,
) -> dict[str, list[dict[str, Any]]]:
    """system index (as str) -> examples, ordered by dimension then risk score (highest first)."""
    out: dict[str, list[dict[str, Any]]] = {}
    if per_dimension <= 0:
        return out
    unsafe = (frame.r_outcome == UNSAFE) & ~frame.t_benign[frame.r_test]
    dims = frame.t_dim[frame.r_test]
    for system in frame.systems:
        idx = np.flatnonzero(unsafe & (frame.r_system == system.index))
        if len(idx) == 0:
            continue
        chosen: list[int] = []
        for d in np.unique(dims[idx]):
            mine = idx[dims[idx] == d]
            top = mine[np.argsort(-frame.r_score[mine], kind="stable")[:per_dimension]]
            chosen.extend(int(i) for i in top)
        rowids = [int(frame.r_rowid[i]) for i in chosen]
        run = frame.runs[system.run]
        with RunStore.open_dir(Path(run.path)) as store:
            sql = _FETCH_SQL.format(marks=",".join("?" * len(rowids)))
            texts = {row[0]: row[1:] for row in store.db.execute(sql, (run.critic or "", *rowids))}
        examples = []
        for i, rowid in zip(chosen, rowids, strict=True):
            if rowid not in texts:
                continue
            prompt, answer, explanation, tags, attack, lang, risk = texts[rowid]
            examples.append(
                {
                    "dimension": frame.dims[int(dims[i])],
                    "risk": risk,
                    "lang": lang,
                    "attack": attack,
                    "risk_score": round(float(frame.r_score[i]), 4),
                    "prompt": _clip(prompt, max_chars),
                    "answer": _clip(answer, max_chars),
                    "explanation": explanation or "",
                    "tags": orjson.loads(tags) if tags else [],
                }
            )
        out[str(system.index)] = examples
    return out
