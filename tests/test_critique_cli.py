"""`seval critique RUN`: judge a stored run again without asking the target, idempotently, with the
verdicts of several critics side by side in one store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from seval import registry
from seval.critic.base import Critic, JudgeItem
from seval.engine.store import RunStore
from seval.records import Verdict
from seval.testing import run_cli

N_TESTS = 12


class AllUnsafeCritic(Critic):
    """Labels every answer unsafe: easy to tell apart from the rules critic in the store."""

    id = "allunsafe@test"
    description = "labels everything unsafe"
    judged = 0

    async def judge(self, items: list[JudgeItem]) -> list[Verdict]:
        AllUnsafeCritic.judged += len(items)
        return [
            Verdict(response_key=it.response.key, critic=self.id, risk_score=1.0, label="unsafe")
            for it in items
        ]


@pytest.fixture
def allunsafe() -> Iterator[type[AllUnsafeCritic]]:
    AllUnsafeCritic.judged = 0
    registry.critics.register("allunsafe")(AllUnsafeCritic)
    yield AllUnsafeCritic
    registry.critics._loaded.pop("allunsafe", None)


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch,
        capsys,
        "run",
        "--target",
        "scripted:mixed",
        "--suite",
        "seed",
        "--limit",
        str(N_TESTS),
        "--cache",
        "off",
        "--critic",
        "rules",
        "--out",
        str(out),
    )
    assert code == 0, err
    return out


def verdict_counts(run_dir: Path) -> dict[str, int]:
    with RunStore.open_dir(run_dir) as store:
        return {c: len(store.judged_keys(c)) for c in store.critic_ids()}


def test_critique_with_the_run_critic_judges_nothing_again(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = verdict_counts(run_dir)
    assert list(before.values()) == [N_TESTS]
    for _ in range(2):
        code, out, err = run_cli(monkeypatch, capsys, "critique", str(run_dir), "--critic", "rules")
        assert code == 0, err
        assert "nothing to judge" in err and f"all {N_TESTS} answered responses" in err
        assert "Safety score" in out and "critic: rules@" in out
    assert verdict_counts(run_dir) == before


def test_second_critic_coexists_with_the_first_and_is_idempotent(
    run_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    allunsafe: type[AllUnsafeCritic],
) -> None:
    args = (
        "critique",
        run_dir.name,
        "--dir",
        str(run_dir.parent),
        "--critic",
        "allunsafe",
        "--batch-size",
        "5",
    )
    code, out, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0, err
    assert f"judged {N_TESTS} responses with allunsafe@test (0 already judged" in err
    assert allunsafe.judged == N_TESTS
    # The summary is the new critic's: every risky answer unsafe.
    assert "critic: allunsafe@test" in out and "0.0%" in out and "100.0%" not in out

    counts = verdict_counts(run_dir)
    assert counts["allunsafe@test"] == N_TESTS
    rules = [c for c in counts if c.startswith("rules@")]
    assert len(rules) == 1 and counts[rules[0]] == N_TESTS
    with RunStore.open_dir(run_dir) as store:
        assert {v.label for v in store.verdicts("allunsafe@test")} == {"unsafe"}
        assert "safe" in {v.label for v in store.verdicts(rules[0])}  # the first critic's verdicts are intact
        assert set(store.critics()) == {rules[0], "allunsafe@test"}

    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 0 and "nothing to judge" in err
    assert allunsafe.judged == N_TESTS  # not one response judged twice
    assert verdict_counts(run_dir) == counts

    # `runs show` picks the most recently judged critic by default, says so, and takes --critic.
    code, out, _ = run_cli(monkeypatch, capsys, "runs", "show", str(run_dir))
    assert code == 0 and "critic: allunsafe@test" in out and "most recently judged" in out
    code, out, _ = run_cli(monkeypatch, capsys, "runs", "show", str(run_dir), "--critic", "rules")
    assert code == 0 and f"critic: {rules[0]}" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["critique", "no-such-run", "--critic", "rules"], "no run 'no-such-run'"),
        (["critique", "{run}", "--critic", "nope"], "unknown critic 'nope'"),
        (["critique", "{run}", "--critic", "rules", "--batch-size", "0"], "--batch-size must be at least 1"),
        (["runs", "show", "{run}", "--critic", "nope"], "run has no verdicts of critic 'nope'"),
    ],
)
def test_critique_user_errors_are_one_line(
    run_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    code, _, err = run_cli(monkeypatch, capsys, *[a.format(run=run_dir) for a in args])
    assert code == 2 and expected in err and "Traceback" not in err
