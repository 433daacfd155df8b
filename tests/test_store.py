"""The run store keeps exactly one row per unit of work, and a success is never overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from seval.engine.export import export_run
from seval.engine.store import RunStore
from seval.errors import DataError
from seval.records import Response, TestCase, Verdict


def resp(key: str, error: str | None = None, answer: str = "a") -> Response:
    return Response(key=key, test_id="t1", target="m", config_id="c", answer=answer, error=error)


def test_success_is_final_and_error_is_replaceable(tmp_path: Path) -> None:
    with RunStore(tmp_path / "s.sqlite") as s:
        s.add_responses([resp("k1", error="boom")])
        s.add_responses([resp("k1", answer="first")])
        s.add_responses([resp("k1", answer="second")])
        s.add_responses([resp("k1", error="late error")])
        rows = list(s.responses())
        assert len(rows) == 1
        assert rows[0].answer == "first" and rows[0].error is None


def test_merge_shards(tmp_path: Path) -> None:
    t = TestCase(id="t1", lang="en", risk="ci", prompt="p")
    with RunStore(tmp_path / "a.sqlite") as a, RunStore(tmp_path / "b.sqlite") as b:
        a.add_tests([t])
        b.add_tests([t])
        a.add_responses([resp("k1"), resp("k2", error="x")])
        b.add_responses([resp("k2", answer="fixed"), resp("k3")])
        b.add_verdicts([Verdict(response_key="k3", critic="c", risk_score=0.1, label="safe")])
        a.merge_from(b.path)
        got = {r.key: r for r in a.responses()}
        assert set(got) == {"k1", "k2", "k3"}
        assert got["k2"].answer == "fixed" and got["k2"].error is None
        assert a.judged_keys("c") == {"k3"}


def test_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataError, match="not a seval run store"):
        RunStore(bad)


def test_export_jsonl_and_parquet(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    t = TestCase(id="t1", lang="en", risk="ci", prompt="how to?")
    with RunStore(tmp_path / "s.sqlite") as s:
        s.add_tests([t])
        s.add_responses([resp("k1")])
        s.add_verdicts([Verdict(response_key="k1", critic="c", risk_score=0.9, label="unsafe", tags=("ci",))])
        assert export_run(s, tmp_path / "out.jsonl") == 1
        assert export_run(s, tmp_path / "out.parquet") == 1
    line = (tmp_path / "out.jsonl").read_text().strip()
    assert '"prompt":"how to?"' in line and '"label":"unsafe"' in line
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.num_rows == 1 and table.column("tags").to_pylist() == [["ci"]]
