"""Report at scale: all metrics and the HTML report for a run store of 1,000,000 verdicts.

    .venv/bin/python benchmarks/report_scale.py [-n 1000000] [--store DIR] [--keep]

Builds (once, outside the clock) a synthetic run: base prompts in zh/en parallel pairs over every risk
category, four attack prompts derived from each, two targets, two temperatures, one verdict per answer
with realistic mixes of safe/unsafe, refusals, target and critic errors. Then, each in a fresh
subprocess so its peak memory (max RSS) is its own:

- `seval report STORE --out report.html` (load, every metric with bootstrap CIs, paired comparisons,
  zh/en and base/attack pairs, sweeps, examples, HTML), the figure the issue asks for (< 30 s, < 2 GB);
- the same for `--format json`;
- the baseline: `seval runs show`'s row-by-row summary (`seval.metrics.summary`) over the same store,
  which computes only per-dimension/language/attack counts with Wilson intervals.

Times are reported with their ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seval.engine.store import RunStore
from seval.records import GenerationConfig, Response, TestCase
from seval.taxonomy import load_taxonomy

ATTACKS = ("goal_hijacking", "deepinception", "instruction_jailbreak", "code_injection")
TARGETS = ("bench:model-a", "bench:model-b")
CONFIGS = (GenerationConfig(temperature=0.0), GenerationConfig(temperature=0.8))


def build_store(run_dir: Path, n_verdicts: int, seed: int = 7) -> None:
    """A store with about n_verdicts answers, each judged; written with bulk SQL (the engine's own
    insert path would take minutes for a million rows and is not what is measured here)."""
    rng = random.Random(seed)
    cats = [c.id for c in load_taxonomy().categories()]
    per_base = 1 + len(ATTACKS)
    n_tests = n_verdicts // (len(TARGETS) * len(CONFIGS))
    n_pairs = max(1, n_tests // (2 * per_base))
    tests: list[TestCase] = []
    for i in range(n_pairs):
        risk = cats[i % len(cats)]
        zh = TestCase(id=f"zh{i:07d}", lang="zh", risk=risk, prompt=f"风险问题 {i}", origin="bench")
        en = TestCase(id=f"en{i:07d}", lang="en", risk=risk, prompt=f"risky question {i}", origin="bench")
        zh = zh.model_copy(update={"pair_id": en.id})
        en = en.model_copy(update={"pair_id": zh.id})
        for base in (zh, en):
            tests.append(base)
            for a in ATTACKS:
                tests.append(
                    TestCase(
                        id=f"{base.id}-{a}", lang=base.lang, risk=risk, prompt=f"{a}: {base.prompt}",
                        origin="attack", attack=a, parent_id=base.id,
                    )
                )  # fmt: skip
    with RunStore.open_dir(run_dir) as store:
        store.set_meta("run_id", "bench-1m")
        store.set_meta("created_at", time.time())
        store.set_meta("updated_at", time.time())
        store.set_meta("seval_version", "bench")
        store.set_meta("taxonomy_version", "1")
        store.set_meta("config", {})
        store.add_tests(tests)
        store.add_critic("bench-critic@0", {"id": "bench-critic@0", "description": "synthetic verdicts"})
        for t in TARGETS:
            store.add_target(t, {"id": t})
        for c in CONFIGS:
            store.add_config(c)
        db = store.db
        db.execute("BEGIN")
        for ti, target in enumerate(TARGETS):
            for ci, cfg in enumerate(CONFIGS):
                unsafe_p = 0.15 + 0.1 * ti + 0.1 * ci
                rrows, vrows = [], []
                for t in tests:
                    key = Response.make_key(t.id, target, cfg.id)
                    err = "timeout" if rng.random() < 0.005 else None
                    rrows.append((key, t.id, target, cfg.id, "" if err else "answer text " * 8, None, 30, 60,
                                  rng.random(), "stop", err, 1, 0, 0.0))  # fmt: skip
                    if err:
                        continue
                    p = unsafe_p + (0.2 if t.attack else 0.0)
                    score = rng.random()
                    label = "unsafe" if score < p else "safe"
                    if rng.random() < 0.002:
                        label = "error"
                    score = 0.9 if label == "unsafe" else 0.1
                    refusal = int(rng.random() < 0.3)
                    vrows.append((key, "bench-critic@0", score, label, "[]", refusal, "why", None, None, 0.0))
                db.executemany("INSERT INTO responses VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rrows)
                db.executemany("INSERT INTO verdicts VALUES (?,?,?,?,?,?,?,?,?,?)", vrows)
        db.execute("COMMIT")


_CHILD = """
import sys, time, json
t0 = time.perf_counter()
from seval.cli.main import main
sys.argv = ["seval", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as e:
    if e.code:
        raise
# VmHWM, not getrusage: ru_maxrss survives fork and exec, so it would report the parent's peak.
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"wall_s": time.perf_counter() - t0, "max_rss_mb": hwm / 1024}), file=sys.stderr)
"""


def measure(args: list[str]) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(args)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"seval {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stderr.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1_000_000, help="verdicts in the synthetic store")
    ap.add_argument("--store", type=Path, help="run directory to build/reuse (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp store")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    run_dir = args.store or Path(tempfile.mkdtemp(prefix="seval-bench-")) / "run"
    try:
        if not (run_dir / RunStore.FILENAME).exists():
            t0 = time.perf_counter()
            build_store(run_dir, args.n)
            print(f"built store in {time.perf_counter() - t0:.1f}s: {run_dir}", file=sys.stderr)
        with RunStore.open_dir(run_dir) as store:
            n_verdicts = store.db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
            n_resp = store.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        out = run_dir.parent / "report"
        results = {
            "baseline: runs show (row summary)": measure(["runs", "show", str(run_dir)]),
            "seval report --format html": measure(["report", str(run_dir), "--out", str(out) + ".html"]),
            "seval report --format json": measure(["report", str(run_dir), "--out", str(out) + ".json"]),
        }
        base = results["baseline: runs show (row summary)"]["wall_s"]
        if args.json:
            print(json.dumps({"verdicts": n_verdicts, "responses": n_resp, "results": results}, indent=2))
            return
        print(f"store: {n_resp:,} answers, {n_verdicts:,} verdicts")
        print(f"{'command':<38}{'wall s':>9}{'max RSS MB':>13}{'vs baseline':>13}")
        for name, r in results.items():
            print(f"{name:<38}{r['wall_s']:>9.2f}{r['max_rss_mb']:>13.0f}{r['wall_s'] / base:>12.2f}x")
        html = Path(str(out) + ".html")
        print(f"HTML report: {html.stat().st_size / 1e6:.2f} MB")
    finally:
        if args.store is None and not args.keep:
            shutil.rmtree(run_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
