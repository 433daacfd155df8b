"""`seval run` end to end against a local OpenAI-compatible server: resume after SIGKILL, faults,
and one clear line for every error a user can make."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from seval.engine.executor import Executor, plan_units
from seval.engine.store import RunStore
from seval.models import TargetOptions, load_model
from seval.records import GenerationConfig, TestCase
from seval.testing import run_cli
from seval.testing.mock_server import MockOpenAIServer


def write_run_file(path: Path, base_url: str, **extra: Any) -> Path:
    lines = [
        "suite: [seed]",
        "targets:",
        f"  - model: openai-compatible:mock@{base_url}",
        "    max_concurrency: 4",
        "cache: off",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def count_responses(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute("SELECT COUNT(*) FROM responses WHERE error IS NULL").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def test_main_job_on_mock_server_and_runs_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with MockOpenAIServer() as srv:
        run_file = write_run_file(tmp_path / "run.yaml", srv.base_url, limit=24)
        code, out, err = run_cli(
            monkeypatch, capsys, "run", "--config", str(run_file), "--out", str(tmp_path / "r")
        )
        assert code == 0, err
        assert "Safety score" in out and "overall" in out
        assert f"run: {tmp_path / 'r'}" in out
        report = tmp_path / "r" / "report.html"  # every run leaves its report
        assert f"report: {report}" in out and "<svg" in report.read_text()
        assert "local@" in err  # the critic used (the default, the trained local one) is named
        assert srv.total_requests == 24
        # A second identical run resumes and asks nothing of the server.
        code, out, err = run_cli(
            monkeypatch, capsys, "run", "--config", str(run_file), "--out", str(tmp_path / "r")
        )
        assert code == 0 and "resumed run" in err and "24 already done" in err
        assert srv.total_requests == 24
    code, out, _ = run_cli(monkeypatch, capsys, "runs", "show", str(tmp_path / "r"))
    assert code == 0 and "Data Privacy" in out
    code, _, err = run_cli(
        monkeypatch, capsys, "runs", "export", str(tmp_path / "r"), "--out", str(tmp_path / "x.jsonl")
    )
    assert code == 0 and len((tmp_path / "x.jsonl").read_text().splitlines()) == 24


def test_sigkill_mid_run_then_rerun_answers_every_test_exactly_once(tmp_path: Path) -> None:
    reached = threading.Event()
    seen = 0

    def script(prompt: str, nth: int, body: dict[str, Any]) -> None:
        # Runs on the server for every request: tells the test the run is well under way.
        nonlocal seen
        seen += 1
        if seen >= 60:
            reached.set()

    with MockOpenAIServer(latency=0.02, script=script) as srv:
        run_file = write_run_file(tmp_path / "run.yaml", srv.base_url)
        out_dir = tmp_path / "run"
        db = out_dir / RunStore.FILENAME
        cmd = [
            sys.executable,
            "-m",
            "seval.cli.main",
            "run",
            "--config",
            str(run_file),
            "--out",
            str(out_dir),
        ]
        env = {**os.environ, "SEVAL_CACHE_DIR": str(tmp_path / "cache")}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert reached.wait(120), "the run never got going"
        # The store commits every 0.25 s; poll the file (bounded) until some answers are durable.
        poll = threading.Event()
        for _ in range(2000):
            if count_responses(db) >= 20:
                break
            poll.wait(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        committed = count_responses(db)
        assert 0 < committed < 250, "the kill should land mid-run"
        before = srv.total_requests

        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "resumed run" in done.stderr
        # Nothing committed before the kill was asked again; everything else was asked exactly once more.
        assert srv.total_requests - before == 250 - committed

    with RunStore(db) as store:
        rows = list(store.responses())
        tests = list(store.tests())
    assert len(tests) == 250
    assert len(rows) == 250
    assert sorted(r.test_id for r in rows) == sorted(t.id for t in tests)
    assert all(r.error is None for r in rows)
    assert len(store_path_verdicts(db)) == 250


def store_path_verdicts(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT response_key, critic FROM verdicts").fetchall()
    finally:
        con.close()


def test_faulty_server_is_survived_with_nothing_lost(tmp_path: Path) -> None:
    """429s with Retry-After, 500/503, hangs, dropped connections and broken JSON, all at once."""
    n = 300

    async def go() -> tuple[int, int, dict[str, int]]:
        async with MockOpenAIServer(
            rate_limit_rate=0.08,
            server_error_rate=0.08,
            hang_rate=0.03,
            drop_rate=0.05,
            truncate_rate=0.03,
            invalid_json_rate=0.03,
            retry_after=0.05,
            seed=7,
        ) as srv:
            model = load_model(
                f"openai-compatible:mock@{srv.base_url}", TargetOptions(max_concurrency=32, timeout_s=0.5)
            )
            tests = [TestCase(id=f"t{i}", lang="en", risk="ci", prompt=f"question {i}") for i in range(n)]
            with RunStore(tmp_path / "store.sqlite") as store:
                store.add_tests(tests)
                ex = Executor(
                    store, {model.id: model}, max_retries=12, backoff_base_s=0.01, backoff_max_s=0.1
                )
                stats = await ex.run(plan_units(tests, [model.id], [GenerationConfig()]))
                await model.aclose()
                counts = store.count_responses()
                keys = {r.test_id for r in store.responses()}
            assert keys == {t.id for t in tests}
            return stats.retries, counts["ok"], dict(srv.status_counts)

    retries, ok, status = asyncio.run(go())
    assert ok == n
    assert retries > 0
    for fault in ("429", "500", "hang", "drop"):
        assert status.get(fault, 0) > 0, f"fault {fault} was never injected: {status}"


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        ("bad_yaml", ["run", "--config", "{dir}/run.yaml"], "invalid YAML"),
        ("unknown_field", ["run", "--config", "{dir}/run.yaml"], "targetz"),
        ("bad_suite", ["run", "--suite", "{dir}/suite.jsonl", "-t", "scripted:refuse"], "suite.jsonl:2"),
        ("unknown_risk", ["run", "--suite", "{dir}/suite.jsonl", "-t", "scripted:refuse"], "no.such.risk"),
        ("none", ["run", "--suite", "seed", "--target", "nope:model"], "unknown model 'nope'"),
        ("none", ["run", "--suite", "seed", "--target", "openai-compatible:m@http://127.0.0.1:9/v1",
                  "--limit", "8"], "is failing"),
        ("none", ["run", "--suite", "{dir}/missing.jsonl"], "suite file not found"),
        ("none", ["runs", "show", "no-such-run"], "no run 'no-such-run'"),
        ("none", ["data", "import", "{dir}/nothing.csv", "--out", "{dir}/o.jsonl"], "nothing.csv"),
    ],
)  # fmt: skip
def test_user_errors_are_one_clear_line(
    setup: str,
    args: list[str],
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if setup == "bad_yaml":
        (tmp_path / "run.yaml").write_text("targets: [a, b\nsuite: seed\n")
    elif setup == "unknown_field":
        (tmp_path / "run.yaml").write_text("targetz: [scripted:refuse]\n")
    elif setup == "bad_suite":
        good = TestCase(id="a", lang="en", risk="ci", prompt="p").model_dump_json()
        (tmp_path / "suite.jsonl").write_text(good + "\n{not json\n")
    elif setup == "unknown_risk":
        bad = TestCase(id="a", lang="en", risk="no.such.risk", prompt="p").model_dump_json()
        (tmp_path / "suite.jsonl").write_text(bad + "\n")
    code, _, err = run_cli(monkeypatch, capsys, *[a.format(dir=tmp_path) for a in args])
    assert code == 2, err
    assert expected in err
    assert "Traceback" not in err
    # Progress lines may precede it; the error itself is one line (the terminal may wrap it).
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, err
    assert err.strip().endswith(err.strip().split("error:", 1)[1].strip())


def test_shards_run_apart_and_merge_into_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with MockOpenAIServer() as srv:
        run_file = write_run_file(tmp_path / "run.yaml", srv.base_url, limit=30)
        for i in range(3):
            code, _, err = run_cli(
                monkeypatch,
                capsys,
                "run",
                "-c",
                str(run_file),
                "--shard",
                f"{i}/3",
                "--out",
                str(tmp_path / f"s{i}"),
            )
            assert code == 0, err
        assert srv.total_requests == 30
    code, _, err = run_cli(
        monkeypatch, capsys, "runs", "merge", str(tmp_path / "s0"), str(tmp_path / "s1"), str(tmp_path / "s2")
    )
    assert code == 0, err
    with RunStore.open_dir(tmp_path / "s0") as store:
        assert store.count_responses() == {"ok": 30, "error": 0}
        assert len({r.test_id for r in store.responses()}) == 30
        critic = store.critic_ids()[0]
        assert len(store.judged_keys(critic)) == 30
    code, out, _ = run_cli(monkeypatch, capsys, "runs", "list", "--dir", str(tmp_path))
    assert code == 0 and "s0" in out and "s2" in out


def test_run_with_attacks_reports_per_attack_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with MockOpenAIServer() as srv:
        run_file = write_run_file(tmp_path / "run.yaml", srv.base_url, limit=10)
        args = ["run", "-c", str(run_file), "--attacks", "positive_induction,instruction_encryption"]
        code, out, err = run_cli(monkeypatch, capsys, *args, "--out", str(tmp_path / "r"))
        assert code == 0, err
        assert "Safety score per attack" in out
        assert "positive_induction" in out and "instruction_encryption" in out and "ASR" in out
        first = srv.total_requests
        code, out, err = run_cli(monkeypatch, capsys, *args, "--out", str(tmp_path / "r"))
        assert code == 0 and srv.total_requests == first
    with RunStore.open_dir(tmp_path / "r") as store:
        tests = store.tests_by_id()
    derived = [t for t in tests.values() if t.attack]
    base_risky = [t for t in tests.values() if not t.attack and not t.benign]
    assert len(derived) == 2 * len(base_risky)
    assert first == len(tests)  # every base and attack prompt asked exactly once
    assert all(t.parent_id in tests for t in derived)
    assert {t.attack for t in derived} == {"positive_induction", "instruction_encryption"}


def test_unknown_attack_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        monkeypatch, capsys, "run", "-t", "scripted:refuse", "--attacks", "nope", "--out", str(tmp_path)
    )
    assert code == 2 and "nope" in err and "Traceback" not in err
