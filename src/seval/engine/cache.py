"""A response cache shared across runs, keyed on (model id, generation config, messages).

It lets a second run over the same prompts (another critic, a widened suite, a re-run after editing the
run file) skip model calls whose answer is already known. It is only consulted where an answer is
reproducible: by default for greedy decoding (temperature 0) or a fixed seed, since caching a sampled
answer would silently turn a sampling study into a replay.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Literal

import orjson

from seval.records import GenerationConfig, Message, ModelOutput, stable_hash

CacheMode = Literal["auto", "on", "off"]


def cache_key(model_id: str, config: GenerationConfig, messages: list[Message]) -> str:
    return stable_hash(
        {"m": model_id, "c": config.model_dump(mode="json"), "x": [(m.role, m.content) for m in messages]},
        32,
    )


def cache_applies(mode: CacheMode, config: GenerationConfig) -> bool:
    if mode == "off":
        return False
    if mode == "on":
        return True
    return config.temperature == 0.0 or config.seed is not None


class ResponseCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, output BLOB NOT NULL)")
        self._pending: list[tuple[str, bytes]] = []

    def get(self, key: str) -> ModelOutput | None:
        row = self.db.execute("SELECT output FROM cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        data = orjson.loads(row[0])
        data["cached"] = True
        return ModelOutput.model_validate(data)

    def put(self, key: str, output: ModelOutput) -> None:
        self._pending.append((key, output.to_json()))

    def flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO cache VALUES (?, ?)", rows)

    def close(self) -> None:
        self.flush()
        self.db.close()
