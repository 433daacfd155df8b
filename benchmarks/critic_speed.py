"""Local critic speed: responses judged per second by each tier and by the cascade, against `rules`.

    .venv/bin/python benchmarks/critic_speed.py [--model DIR] [-n 2000] [--n-accurate 200] [--n-cascade 500]

The mix is what the critic meets in practice: the default local model's (Gemma 3 270M via llama.cpp)
answers to our seed suite, zh and en, in benchmarks/data/seed_answers_gemma270m.jsonl (`--data FILE` takes
any JSONL with prompt and response, e.g. a labeled set). Rows are repeated in order to each critic's count;
nothing is cached between items, so a repeat costs what a new answer of that length would.

In the same run we time the `rules` critic, a keyword baseline with no model, and report each critic's
responses/s and its rate as a multiple of the baseline's. The accurate tier embeds prompt and answer
with e5 (the expensive part), so it gets a smaller count of its own; the cascade (the default `local`)
sends only what the fast tier is unsure of to the accurate tier, and the share each tier settled is
printed, since that share decides the cascade's speed on any other mix. Model loading (and the encoder's
first call) happen before the clock starts and are reported apart. `rules` and `local-fast` are the best
of `--repeat` passes; the slower two are timed once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seval.critic import Critic, JudgeItem, load_critic
from seval.critic.refusal import is_chinese
from seval.errors import SevalError
from seval.records import Response, TestCase, Verdict

DEFAULT_DATA = Path(__file__).parent / "data" / "seed_answers_gemma270m.jsonl"


def load_rows(path: Path) -> list[dict[str, str]]:
    """prompt/response/lang from any JSONL that has the first two (lang is guessed when absent)."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if "prompt" not in row or "response" not in row:
                raise SystemExit(f"{path}:{n}: a row needs prompt and response")
            prompt, response = str(row["prompt"]), str(row["response"] or "")
            lang = row.get("lang") or ("zh" if is_chinese(prompt) else "en")
            rows.append({"prompt": prompt, "response": response, "lang": lang})
    if not rows:
        raise SystemExit(f"{path}: no rows")
    return rows


def make_items(rows: Sequence[dict[str, str]], n: int) -> list[JudgeItem]:
    """`n` items cycling through the rows, each with its own key (as distinct responses in a run)."""
    items = []
    for i in range(n):
        r = rows[i % len(rows)]
        test = TestCase(id=f"t{i}", lang=r["lang"], risk="unknown", prompt=r["prompt"])
        response = Response(key=f"r{i}", test_id=test.id, target="bench", config_id="c", answer=r["response"])
        items.append(JudgeItem(test=test, response=response))
    return items


async def judge_all(critic: Critic, items: Sequence[JudgeItem], batch_size: int) -> list[Verdict]:
    """Batches of `batch_size`, one after another, as `seval critique` and `critic eval` feed a critic."""
    out: list[Verdict] = []
    for start in range(0, len(items), batch_size):
        out.extend(await critic.judge(list(items[start : start + batch_size])))
    return out


@dataclass
class Result:
    name: str
    critic_id: str
    n: int
    load_s: float
    wall_s: float
    unsafe_share: float
    tiers: dict[str, int]

    @property
    def per_s(self) -> float:
        return self.n / self.wall_s if self.wall_s > 0 else float("inf")


def measure(
    name: str, spec: str, rows: Sequence[dict[str, str]], n: int, batch_size: int, repeat: int
) -> Result:
    t0 = time.perf_counter()
    critic = load_critic(spec)
    if spec.startswith("local"):
        # The e5 encoder loads on the first accurate-tier call, which the warm-up may not make.
        from seval.critic.local.embed import Encoder

        Encoder.model()
    # Warm-up (not timed): lazy imports, compiled regexes, first allocations.
    asyncio.run(critic.judge(make_items(rows, min(8, n))))
    load_s = time.perf_counter() - t0
    items = make_items(rows, n)
    best, verdicts = float("inf"), []
    for _ in range(repeat):
        t = time.perf_counter()
        verdicts = asyncio.run(judge_all(critic, items, batch_size))
        best = min(best, time.perf_counter() - t)
    asyncio.run(critic.aclose())
    assert len(verdicts) == n
    tiers: Counter[str] = Counter()
    for v in verdicts:
        if v.raw and v.raw.startswith("{"):
            tier = json.loads(v.raw).get("tier")
            if tier:
                tiers[tier] += 1
    unsafe = sum(v.label != "safe" for v in verdicts) / n
    return Result(name, critic.id, n, load_s, best, unsafe, dict(tiers))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="JSONL with prompt, response (and lang)")
    ap.add_argument("--model", type=Path, default=None, help="trained local critic dir (default: shipped)")
    ap.add_argument("-n", "--n-fast", type=int, default=2000, help="items for rules and local-fast")
    ap.add_argument("--n-accurate", type=int, default=200, help="items for local-accurate")
    ap.add_argument("--n-cascade", type=int, default=500, help="items for the cascade (local)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3, help="best of N passes for rules and local-fast")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    rows = load_rows(args.data)
    suffix = f":{args.model}" if args.model else ""
    plan = [
        ("rules", "rules", args.n_fast, args.repeat),
        ("local-fast", f"local-fast{suffix}", args.n_fast, args.repeat),
        ("local-accurate", f"local-accurate{suffix}", args.n_accurate, 1),
        ("local (cascade)", f"local{suffix}", args.n_cascade, 1),
    ]
    results: list[Result] = []
    try:
        for name, spec, n, repeat in plan:
            if n > 0:
                results.append(measure(name, spec, rows, n, args.batch_size, repeat))
    except SevalError as exc:
        raise SystemExit(f"error: {exc}") from exc
    base = next((r for r in results if r.name == "rules"), None)
    langs = Counter(r["lang"] for r in rows)
    if args.json:
        report: dict[str, Any] = {
            "data": str(args.data),
            "rows": len(rows),
            "langs": dict(langs),
            "model": str(args.model) if args.model else "shipped",
            "critics": [
                {"name": r.name, "id": r.critic_id, "n": r.n, "load_s": round(r.load_s, 3),
                 "wall_s": round(r.wall_s, 3), "per_s": round(r.per_s, 1),
                 "vs_rules": round(r.per_s / base.per_s, 4) if base else None,
                 "unsafe_share": round(r.unsafe_share, 4), "tiers": r.tiers}
                for r in results
            ],
        }  # fmt: skip
        print(json.dumps(report, indent=2))
        return
    print(f"data: {args.data} ({len(rows)} answers, {dict(langs)}); model: {args.model or 'shipped'}")
    print(f"{'critic':<17}{'n':>6}{'load s':>8}{'wall s':>9}{'resp/s':>10}{'vs rules':>10}{'unsafe':>8}")
    for r in results:
        ratio = f"{r.per_s / base.per_s:.2g}x" if base else "-"
        print(
            f"{r.name:<17}{r.n:>6}{r.load_s:>8.2f}{r.wall_s:>9.2f}{r.per_s:>10,.1f}{ratio:>10}"
            f"{r.unsafe_share:>8.1%}"
        )
    for r in results:
        if r.name.startswith("local (cascade)") and r.tiers:
            shares = ", ".join(f"{t} {c / r.n:.1%} ({c})" for t, c in sorted(r.tiers.items()))
            print(f"cascade settled by: {shares}")


if __name__ == "__main__":
    main()
