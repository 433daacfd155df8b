"""The run store: one SQLite database (WAL mode) per run, written as results arrive.

Why SQLite: a crash or SIGKILL loses at most the rows not yet committed (a fraction of a second of
work), the file is a single artefact a user can copy or query with any SQL tool, and readers (a report,
`seval runs show`) can open it while a run is writing. Every row is keyed by content, so inserting the
same work twice is a no-op and a re-run resumes exactly where the last one stopped.

The store is also the seam for scaling out: shards of a run written by separate processes are merged
with `merge_from`, and a shared database server can implement the same methods.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from seval.errors import DataError
from seval.records import GenerationConfig, Response, TestCase, Verdict

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tests (
    id TEXT PRIMARY KEY, lang TEXT NOT NULL, risk TEXT NOT NULL, attack TEXT, parent_id TEXT,
    origin TEXT, benign INTEGER NOT NULL DEFAULT 0, record BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS targets (id TEXT PRIMARY KEY, info BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS configs (id TEXT PRIMARY KEY, config BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS critics (id TEXT PRIMARY KEY, info BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY, test_id TEXT NOT NULL, target TEXT NOT NULL, config_id TEXT NOT NULL,
    answer TEXT NOT NULL, reasoning TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,
    latency_s REAL, finish_reason TEXT, error TEXT, attempts INTEGER, cached INTEGER, created_at REAL
);
CREATE INDEX IF NOT EXISTS responses_by_target ON responses (target, config_id);
CREATE TABLE IF NOT EXISTS verdicts (
    response_key TEXT NOT NULL, critic TEXT NOT NULL, risk_score REAL NOT NULL, label TEXT NOT NULL,
    tags TEXT NOT NULL, refusal INTEGER, explanation TEXT, raw TEXT, parse_error TEXT, created_at REAL,
    PRIMARY KEY (response_key, critic)
);
"""

_RESPONSE_COLS = (
    "key", "test_id", "target", "config_id", "answer", "reasoning", "prompt_tokens",
    "completion_tokens", "latency_s", "finish_reason", "error", "attempts", "cached", "created_at",
)  # fmt: skip
_VERDICT_COLS = (
    "response_key", "critic", "risk_score", "label", "tags", "refusal", "explanation", "raw",
    "parse_error", "created_at",
)  # fmt: skip

# A successful response is final. An errored one may be replaced by a later attempt (a resumed run
# retries errors), but never the other way round.
_UPSERT_RESPONSE = (
    f"INSERT INTO responses ({', '.join(_RESPONSE_COLS)}) VALUES ({', '.join('?' * len(_RESPONSE_COLS))}) "
    "ON CONFLICT(key) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in _RESPONSE_COLS[1:])
    + " WHERE responses.error IS NOT NULL"
)
_INSERT_VERDICT = (
    f"INSERT OR REPLACE INTO verdicts ({', '.join(_VERDICT_COLS)}) "
    f"VALUES ({', '.join('?' * len(_VERDICT_COLS))})"
)


def _response_row(r: Response) -> tuple[Any, ...]:
    return (
        r.key, r.test_id, r.target, r.config_id, r.answer, r.reasoning, r.prompt_tokens,
        r.completion_tokens, r.latency_s, r.finish_reason, r.error, r.attempts, int(r.cached),
        r.created_at or time.time(),
    )  # fmt: skip


def _verdict_row(v: Verdict) -> tuple[Any, ...]:
    return (
        v.response_key, v.critic, v.risk_score, v.label, orjson.dumps(list(v.tags)).decode(),
        None if v.refusal is None else int(v.refusal), v.explanation, v.raw, v.parse_error,
        v.created_at or time.time(),
    )  # fmt: skip


class RunStore:
    """All persisted state of one run. Not thread-safe: use it from one thread (the event loop's)."""

    FILENAME = "store.sqlite"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash (SIGKILL); only an OS crash may lose the
            # last transactions, which then are simply redone.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=10000")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DataError(f"{self.path}: not a seval run store ({exc})") from exc
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", SCHEMA_VERSION)
        elif int(version) > SCHEMA_VERSION:
            raise DataError(f"{self.path}: written by a newer seval (schema {version}); upgrade seval")

    @classmethod
    def open_dir(cls, run_dir: Path) -> RunStore:
        return cls(Path(run_dir) / cls.FILENAME)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- metadata ---------------------------------------------------------------------------------
    def set_meta(self, key: str, value: Any) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, orjson.dumps(value).decode())
        )

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def meta(self) -> dict[str, Any]:
        return {k: orjson.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    # --- inputs -----------------------------------------------------------------------------------
    def add_tests(self, tests: Iterable[TestCase]) -> None:
        rows = [
            (t.id, t.lang, t.risk, t.attack, t.parent_id, t.origin, int(t.benign), t.to_json()) for t in tests
        ]
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO tests VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def tests(self) -> Iterator[TestCase]:
        for (blob,) in self.db.execute("SELECT record FROM tests ORDER BY rowid"):
            yield TestCase.model_validate_json(blob)

    def tests_by_id(self) -> dict[str, TestCase]:
        return {t.id: t for t in self.tests()}

    def add_target(self, target_id: str, info: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO targets VALUES (?, ?)", (target_id, orjson.dumps(info)))

    def targets(self) -> dict[str, dict[str, Any]]:
        return {k: orjson.loads(v) for k, v in self.db.execute("SELECT id, info FROM targets")}

    def add_config(self, config: GenerationConfig) -> None:
        self.db.execute("INSERT OR IGNORE INTO configs VALUES (?, ?)", (config.id, config.model_dump_json()))

    def configs(self) -> dict[str, GenerationConfig]:
        return {
            k: GenerationConfig.model_validate_json(v)
            for k, v in self.db.execute("SELECT id, config FROM configs")
        }

    def add_critic(self, critic_id: str, info: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO critics VALUES (?, ?)", (critic_id, orjson.dumps(info)))

    def critics(self) -> dict[str, dict[str, Any]]:
        return {k: orjson.loads(v) for k, v in self.db.execute("SELECT id, info FROM critics")}

    # --- responses --------------------------------------------------------------------------------
    def add_responses(self, responses: Iterable[Response]) -> int:
        rows = [_response_row(r) for r in responses]
        if not rows:
            return 0
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(_UPSERT_RESPONSE, rows)
        return len(rows)

    def done_keys(self, include_errors: bool = False) -> set[str]:
        sql = "SELECT key FROM responses" + ("" if include_errors else " WHERE error IS NULL")
        return {k for (k,) in self.db.execute(sql)}

    def responses(self, *, ok_only: bool = False) -> Iterator[Response]:
        sql = f"SELECT {', '.join(_RESPONSE_COLS)} FROM responses"
        if ok_only:
            sql += " WHERE error IS NULL"
        for row in self.db.execute(sql + " ORDER BY rowid"):
            d = dict(zip(_RESPONSE_COLS, row, strict=True))
            d["cached"] = bool(d["cached"])
            yield Response.model_validate(d)

    def usage(self) -> tuple[int, int]:
        """(requests answered, tokens used) over the whole run, for the run-wide budget."""
        n, toks = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(COALESCE(prompt_tokens,0) + COALESCE(completion_tokens,0)), 0)"
            " FROM responses WHERE cached = 0"
        ).fetchone()
        return int(n), int(toks)

    def count_responses(self) -> dict[str, int]:
        ok, err = self.db.execute(
            "SELECT COALESCE(SUM(error IS NULL), 0), COALESCE(SUM(error IS NOT NULL), 0) FROM responses"
        ).fetchone()
        return {"ok": int(ok), "error": int(err)}

    # --- verdicts ---------------------------------------------------------------------------------
    def add_verdicts(self, verdicts: Iterable[Verdict]) -> int:
        rows = [_verdict_row(v) for v in verdicts]
        if not rows:
            return 0
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(_INSERT_VERDICT, rows)
        return len(rows)

    def judged_keys(self, critic: str) -> set[str]:
        return {
            k for (k,) in self.db.execute("SELECT response_key FROM verdicts WHERE critic = ?", (critic,))
        }

    def verdicts(self, critic: str | None = None) -> Iterator[Verdict]:
        sql = f"SELECT {', '.join(_VERDICT_COLS)} FROM verdicts"
        args: tuple[Any, ...] = ()
        if critic:
            sql += " WHERE critic = ?"
            args = (critic,)
        for row in self.db.execute(sql, args):
            d = dict(zip(_VERDICT_COLS, row, strict=True))
            d["tags"] = tuple(orjson.loads(d["tags"]))
            d["refusal"] = None if d["refusal"] is None else bool(d["refusal"])
            yield Verdict.model_validate(d)

    def critic_ids(self) -> list[str]:
        return [c for (c,) in self.db.execute("SELECT DISTINCT critic FROM verdicts ORDER BY critic")]

    def joined_rows(self, critic: str) -> Iterator[dict[str, Any]]:
        """One flat row per response with its test's fields and this critic's verdict (None if none)."""
        sql = """
            SELECT r.key, r.test_id, r.target, r.config_id, r.error, r.latency_s,
                   r.prompt_tokens, r.completion_tokens,
                   t.lang, t.risk, t.attack, t.benign, t.origin,
                   v.label, v.risk_score, v.refusal
            FROM responses r JOIN tests t ON t.id = r.test_id
            LEFT JOIN verdicts v ON v.response_key = r.key AND v.critic = ?
        """
        cols = (
            "key", "test_id", "target", "config_id", "error", "latency_s", "prompt_tokens",
            "completion_tokens", "lang", "risk", "attack", "benign", "origin", "label", "risk_score",
            "refusal",
        )  # fmt: skip
        for row in self.db.execute(sql, (critic,)):
            yield dict(zip(cols, row, strict=True))

    # --- scaling out ------------------------------------------------------------------------------
    def merge_from(self, other: Path) -> None:
        """Fold another store of the same run (e.g. a shard written elsewhere) into this one."""
        self.db.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            with self.db:
                self.db.execute("BEGIN")
                for table in ("tests", "targets", "configs", "critics"):
                    self.db.execute(f"INSERT OR IGNORE INTO {table} SELECT * FROM other.{table}")
                cols = ", ".join(_RESPONSE_COLS)
                self.db.execute(
                    f"INSERT INTO responses ({cols}) SELECT {cols} FROM other.responses WHERE true "
                    "ON CONFLICT(key) DO UPDATE SET "
                    + ", ".join(f"{c}=excluded.{c}" for c in _RESPONSE_COLS[1:])
                    + " WHERE responses.error IS NOT NULL AND excluded.error IS NULL"
                )
                self.db.execute("INSERT OR IGNORE INTO verdicts SELECT * FROM other.verdicts")
        finally:
            self.db.execute("DETACH DATABASE other")
