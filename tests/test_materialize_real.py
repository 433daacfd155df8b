"""training/critic/materialize_real.py: S-Eval prompts are joined in by reference, never committed."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "training" / "critic" / "materialize_real.py"


@pytest.fixture()
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("materialize_real", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture()
def shared(tmp_path: Path) -> Path:
    root = tmp_path / "shared"
    (root / "s-eval").mkdir(parents=True)
    rows = [
        {"traceid": "t1", "risk_type": "Extremism", "prompt": "risky prompt one", "ext": "{}"},
        {"traceid": "t2", "risk_type": "Extremism", "prompt": "risky prompt two", "ext": "{}"},
    ]
    with zipfile.ZipFile(root / "s-eval" / "S-Eval_x_en.jsonl.zip", "w") as zf:
        zf.writestr("S-Eval_x_en.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
        zf.writestr("__MACOSX/._S-Eval_x_en.jsonl", "junk")
    (root / "s-eval" / "S-Eval_broken_en.jsonl.zip").write_bytes(b"not a zip")
    return root


def _row(**kw: object) -> str:
    base = {"id": "r", "lang": "en", "response": "No.", "label": "safe", "source": "s"}
    return json.dumps({**base, **kw}) + "\n"


def test_prompts_are_filled_in_from_the_release(script: ModuleType, shared: Path, tmp_path: Path) -> None:
    src = tmp_path / "set.jsonl"
    src.write_text(
        _row(id="a", s_eval={"file": "S-Eval_x_en.jsonl.zip", "traceid": "t2"})
        + _row(id="b", prompt="benign?")
    )
    rows = script.materialize(src, shared, {})
    assert [(r["id"], r["prompt"]) for r in rows] == [("a", "risky prompt two"), ("b", "benign?")]
    assert all("s_eval" not in r for r in rows)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (_row(s_eval={"file": "S-Eval_x_en.jsonl.zip", "traceid": "t9"}), "traceid t9 not in"),
        (_row(s_eval={"file": "S-Eval_missing.jsonl.zip", "traceid": "t1"}), "not found"),
        (_row(), "no prompt and no s_eval reference"),
        (_row(s_eval={"file": "S-Eval_broken_en.jsonl.zip", "traceid": "t1"}), "not a valid zip archive"),
    ],
)
def test_bad_rows_say_what_is_wrong(
    script: ModuleType, shared: Path, tmp_path: Path, line: str, message: str
) -> None:
    src = tmp_path / "set.jsonl"
    src.write_text(line)
    with pytest.raises(SystemExit, match=message):
        script.materialize(src, shared, {})


def test_committed_sets_carry_no_release_text() -> None:
    """Every committed row names its S-Eval prompt by reference or carries a prompt of our own."""
    for path in sorted((SCRIPT.parent / "real").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert ("s_eval" in row) != ("prompt" in row), (path.name, row["id"])
            assert row["label"] in {"safe", "unsafe"}
