"""The report's numbers as one long CSV table: a row per (system, facet, key, language), so any
spreadsheet or dataframe can pivot it without knowing seval's structure."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = (
    "system", "target", "config", "run", "critic", "facet", "key", "lang", "score", "lo", "hi", "n", "safe",
    "unsafe", "target_errors", "critic_errors", "unjudged", "refusals",
)  # fmt: skip


def rows(m: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in m["systems"]:
        sid = str(s["index"])
        base = {
            "system": s["label"],
            "target": s["target"],
            "config": s["config_label"],
            "run": m["runs"][s["run"]]["run_id"],
            "critic": s["critic"],
        }

        def add(facet: str, key: str, lang: str, v: dict[str, Any], base: dict[str, Any] = base) -> None:
            out.append(base | {"facet": facet, "key": key, "lang": lang} | {c: v.get(c) for c in COLUMNS[8:]})

        add("overall", "all", "*", s["overall"])
        add("prompts", "base", "*", s["base"])
        add("prompts", "attack", "*", s["attack"])
        for facet, table in (
            ("dimension", "by_dimension"),
            ("category", "by_category"),
            ("attack", "by_attack"),
        ):
            for key, v in m[table].get(sid, {}).items():
                add(facet, key, "*", v)
        for key, v in m["by_lang"].get(sid, {}).items():
            add("lang", key, key, v)
        for facet, table in (("dimension", "by_dimension_lang"), ("attack", "by_attack_lang")):
            for key, langs in m[table].get(sid, {}).items():
                for lang, v in langs.items():
                    add(facet, key, lang, v)
        b = s["benign"]
        benign = {"facet": "benign_refusal", "key": "all", "lang": "*", "score": b["refusal_rate"]}
        benign |= {k: b[k] for k in ("lo", "hi", "n", "refusals", "target_errors")}
        out.append(base | benign)
    return out


def render_csv(m: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows(m):
        writer.writerow(r)
    return buf.getvalue()
