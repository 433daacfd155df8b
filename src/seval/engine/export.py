"""Export a run as flat rows (one per response, with its test and verdict) to JSONL or Parquet.

Rows are streamed in batches so that exporting a run of millions of responses needs little memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from seval.engine.store import RunStore
from seval.errors import ConfigError

_SQL = """
SELECT r.key, r.test_id, r.target, r.config_id, t.lang, t.risk, t.attack, t.parent_id, t.origin, t.benign,
       json_extract(t.record, '$.prompt') AS prompt, r.answer, r.reasoning, r.error, r.prompt_tokens,
       r.completion_tokens, r.latency_s, r.finish_reason, r.attempts, r.cached,
       v.critic, v.label, v.risk_score, v.refusal, v.tags, v.explanation, v.parse_error
FROM responses r JOIN tests t ON t.id = r.test_id
LEFT JOIN verdicts v ON v.response_key = r.key AND (? IS NULL OR v.critic = ?)
ORDER BY r.rowid
"""
COLUMNS = (
    "key", "test_id", "target", "config_id", "lang", "risk", "attack", "parent_id", "origin", "benign",
    "prompt", "answer", "reasoning", "error", "prompt_tokens", "completion_tokens", "latency_s",
    "finish_reason", "attempts", "cached", "critic", "label", "risk_score", "refusal", "tags",
    "explanation", "parse_error",
)  # fmt: skip


def iter_rows(
    store: RunStore, critic: str | None = None, batch: int = 5000
) -> Iterator[list[dict[str, Any]]]:
    cur = store.db.execute(_SQL, (critic, critic))
    while rows := cur.fetchmany(batch):
        out = []
        for row in rows:
            d = dict(zip(COLUMNS, row, strict=True))
            d["benign"] = bool(d["benign"])
            d["cached"] = bool(d["cached"])
            d["refusal"] = None if d["refusal"] is None else bool(d["refusal"])
            d["tags"] = orjson.loads(d["tags"]) if d["tags"] else []
            out.append(d)
        yield out


def export_run(store: RunStore, out: Path, critic: str | None = None) -> int:
    suffix = out.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise ConfigError(f"cannot export to '{out.name}': use a .jsonl or .parquet file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    n = 0
    if suffix == ".jsonl":
        with tmp.open("wb") as fh:
            for rows in iter_rows(store, critic):
                for d in rows:
                    fh.write(orjson.dumps(d) + b"\n")
                n += len(rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer: pq.ParquetWriter | None = None
        try:
            for rows in iter_rows(store, critic):
                table = pa.Table.from_pylist(rows)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                else:
                    table = table.cast(writer.schema)
                writer.write_table(table)
                n += len(rows)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            pq.write_table(pa.table({c: [] for c in COLUMNS}), tmp)
    os.replace(tmp, out)
    return n
