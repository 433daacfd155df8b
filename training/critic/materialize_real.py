"""Write the real-model labeled sets in training/critic/real/ as complete rows, ready for training.

Rows whose prompt comes from the S-Eval release do not carry it: the release is CC BY-NC-SA 4.0 and is
not committed here. They name it by file and traceid instead, and this script fills the prompt in from
the release beside the checkout (../shared/data/s-eval), so the training data list stays exact.

    python training/critic/materialize_real.py --shared ../shared/data --out DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def release_prompts(shared: Path, file_name: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    """traceid -> prompt of one S-Eval release file (a .jsonl.zip)."""
    if file_name not in cache:
        path = shared / "s-eval" / file_name
        if not path.is_file():
            raise SystemExit(f"materialize_real: {path} not found (the S-Eval release, see shared/data)")
        with zipfile.ZipFile(path) as zf:
            members = [n for n in zf.namelist() if n.endswith(".jsonl") and not n.startswith("__MACOSX")]
            if len(members) != 1:
                raise SystemExit(f"materialize_real: {path} holds {len(members)} .jsonl files, expected 1")
            text = zf.read(members[0]).decode("utf-8")
        cache[file_name] = {r["traceid"]: r["prompt"] for r in map(json.loads, text.splitlines()) if r}
    return cache[file_name]


def materialize(src: Path, shared: Path, cache: dict[str, dict[str, str]]) -> list[dict[str, object]]:
    rows = []
    for lineno, line in enumerate(src.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        ref = row.pop("s_eval", None)
        if ref is not None:
            prompts = release_prompts(shared, ref["file"], cache)
            if ref["traceid"] not in prompts:
                raise SystemExit(
                    f"materialize_real: {src}:{lineno}: traceid {ref['traceid']} not in {ref['file']}"
                )
            row["prompt"] = prompts[ref["traceid"]]
        if not isinstance(row.get("prompt"), str):
            raise SystemExit(f"materialize_real: {src}:{lineno}: no prompt and no s_eval reference")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, required=True, help="the shared data folder (holds s-eval/)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the complete rows")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cache: dict[str, dict[str, str]] = {}
    for src in sorted((HERE / "real").glob("*.jsonl")):
        rows = materialize(src, args.shared, cache)
        text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
        (args.out / src.name).write_text(text, encoding="utf-8")
        print(f"{src.name}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
