"""`seval report` and `seval compare` end to end on hand-made stores."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from seval.records import TestCase
from seval.testing import run_cli
from seval.testing.stores import Outcome, case, write_store
from test_metrics_compute import build_fixture, fixture_tests

EVIL = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return build_fixture(tmp_path)


def test_html_report_is_self_contained_and_escapes_answers(tmp_path: Path, monkeypatch, capsys) -> None:
    tests = fixture_tests()
    outcomes = [Outcome(t, "A", "unsafe", answer=EVIL, explanation=EVIL) for t in tests[:4]]
    run = write_store(tmp_path / "evil", tests, outcomes)
    out = tmp_path / "r.html"
    code, _, err = run_cli(monkeypatch, capsys, "report", str(run), "--out", str(out))
    assert code == 0, err
    html = out.read_text()
    assert EVIL not in html and "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    # one <script> block: ours; no external resource of any kind
    assert html.count("<script") == 1
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert "Content warning" in html and '<details class="ex">' in html
    assert html.count('class="chart chart-heatmap"') == 2  # dimensions, categories


def test_report_formats_carry_the_same_numbers(run_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    for fmt in ("json", "md", "csv", "html"):
        code, _, err = run_cli(
            monkeypatch, capsys, "report", str(run_dir), "--out", str(tmp_path / f"r.{fmt}")
        )
        assert code == 0, err
    m = json.loads((tmp_path / "r.json").read_text())
    a = next(s for s in m["systems"] if s["target"] == "A")
    assert a["overall"]["score"] == pytest.approx(4 / 6)
    assert "66.7%" in (tmp_path / "r.md").read_text()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    overall = next(r for r in rows if r["system"] == "A" and r["facet"] == "overall")
    assert float(overall["score"]) == pytest.approx(4 / 6) and overall["n"] == "6"
    ci = next(
        r
        for r in rows
        if r["system"] == "A" and r["facet"] == "dimension" and r["key"] == "ci" and r["lang"] == "*"
    )
    assert float(ci["score"]) == pytest.approx(2 / 3)
    assert "66.7%" in (tmp_path / "r.html").read_text()
    # examples: A's two unsafe answers (t3, t5), one per dimension
    assert len(m["examples"][str(a["index"])]) == 2


def test_report_shows_critic_agreement_with_labels(
    run_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    tests = fixture_tests()
    # Label A's answers to t1..t4 by text; the critic said safe, safe, unsafe, safe.
    labels = tmp_path / "labels.jsonl"
    gold = ["safe", "unsafe", "unsafe", "safe"]
    labels.write_text(
        "".join(
            json.dumps({"prompt": t.prompt, "response": "answer", "label": g}) + "\n"
            for t, g in zip(tests, gold, strict=False)
        )
    )
    out = tmp_path / "r.json"
    code, _, err = run_cli(
        monkeypatch, capsys, "report", str(run_dir), "--out", str(out), "--labels", str(labels)
    )
    assert code == 0, err
    ag = json.loads(out.read_text())["agreement"]
    # Texts match both targets' answers; B's answers to t1..t4 are safe, unsafe, unsafe, unsafe.
    assert ag["labels"] == 4 and ag["matched"] == 4
    overall = ag["overall"]
    assert overall["n"] == 4 and 0 <= overall["agreement"] <= 1


def test_report_errors_are_one_line(run_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    code, _, err = run_cli(monkeypatch, capsys, "report", str(run_dir), "--out", str(tmp_path / "r.txt"))
    assert code == 2 and "--format" in err
    code, _, err = run_cli(
        monkeypatch, capsys, "report", str(tmp_path / "nope"), "--out", str(tmp_path / "r.html")
    )
    assert code == 2 and "no run" in err
    code, _, err = run_cli(
        monkeypatch, capsys, "report", str(run_dir), "--out", str(tmp_path / "r.html"), "--critic", "llm"
    )
    assert code == 2 and "has no verdicts of critic 'llm'" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": "safe"}\n')
    code, _, err = run_cli(
        monkeypatch, capsys, "report", str(run_dir), "--out", str(tmp_path / "r.html"), "--labels", str(bad)
    )
    assert code == 2 and "bad.jsonl:1" in err
    assert not (tmp_path / "r.html").exists()


def regression_runs(tmp_path: Path) -> tuple[Path, Path]:
    """The same 40 prompts; run B answers 15 of the 20 ci prompts unsafely where A was safe."""
    tests: list[TestCase] = []
    for i in range(20):
        tests.append(case("en", "ci.drug_crimes", f"drug prompt {i}"))
        tests.append(case("en", "dp.personal_privacy", f"privacy prompt {i}"))
    a = write_store(tmp_path / "a", tests, [Outcome(t, "m", "safe") for t in tests], run_id="before")
    ci = [t for t in tests if t.risk.startswith("ci")]
    worse = {t.id for t in ci[:15]}
    b = write_store(
        tmp_path / "b",
        tests,
        [Outcome(t, "m", "unsafe" if t.id in worse else "safe") for t in tests],
        run_id="after",
    )
    return a, b


def test_compare_finds_the_regression_and_can_fail_ci(tmp_path: Path, monkeypatch, capsys) -> None:
    a, b = regression_runs(tmp_path)
    code, out, err = run_cli(monkeypatch, capsys, "compare", str(a), str(b), "--json")
    assert code == 0, err
    (cmp,) = json.loads(out)["comparisons"]
    assert cmp["paired"] and cmp["shared_prompts"] == 40
    rows = {(r["facet"], r["key"]): r for r in cmp["rows"]}
    assert rows[("overall", "all")]["a"] == 1.0 and rows[("overall", "all")]["b"] == pytest.approx(25 / 40)
    assert rows[("overall", "all")]["diff"] == pytest.approx(-15 / 40)
    assert rows[("dimension", "ci")]["significant"] and rows[("dimension", "ci")]["diff"] == pytest.approx(
        -0.75
    )
    assert not rows[("dimension", "dp")]["significant"] and rows[("dimension", "dp")]["diff"] == 0
    code, out, _ = run_cli(monkeypatch, capsys, "compare", str(a), str(b))
    assert code == 0 and "worse" in out
    code, _, err = run_cli(monkeypatch, capsys, "compare", str(a), str(b), "--fail-on-worse")
    assert code == 1 and "regression" in err
    code, _, _ = run_cli(monkeypatch, capsys, "compare", str(b), str(a), "--fail-on-worse")
    assert code == 0  # the other way round it got safer


def test_compare_within_one_run_needs_targets(run_dir: Path, monkeypatch, capsys) -> None:
    code, _, err = run_cli(monkeypatch, capsys, "compare", str(run_dir), str(run_dir))
    assert code == 2 and "--target-a" in err
    code, out, err = run_cli(
        monkeypatch,
        capsys,
        "compare",
        str(run_dir),
        str(run_dir),
        "--target-a",
        "A",
        "--target-b",
        "B",
        "--json",
    )
    assert code == 0, err
    (cmp,) = json.loads(out)["comparisons"]
    assert (cmp["a_label"], cmp["b_label"]) == ("A", "B")
    code, _, err = run_cli(monkeypatch, capsys, "compare", str(run_dir), str(run_dir), "--target-a", "Z")
    assert code == 2 and "no target matching" in err
