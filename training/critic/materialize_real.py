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
from pathlib import Path

from seval.data.importers.s_eval import iter_jsonl_sources
from seval.errors import DataError

HERE = Path(__file__).resolve().parent


def release_prompts(shared: Path, file_name: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    """traceid -> prompt of one S-Eval release file, read the way `seval data import` reads it."""
    if file_name not in cache:
        path = shared / "s-eval" / file_name
        if not path.is_file():
            raise SystemExit(f"materialize_real: {path} not found (the S-Eval release, see shared/data)")
        prompts: dict[str, str] = {}
        try:
            for src in iter_jsonl_sources(path):
                for line in src.data.decode("utf-8-sig").splitlines():
                    if line.strip():
                        row = json.loads(line)
                        prompts[row["traceid"]] = row["prompt"]
        except DataError as exc:
            raise SystemExit(f"materialize_real: {exc}") from None
        cache[file_name] = prompts
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
