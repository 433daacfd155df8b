"""Deterministic attack derivation speed: all 10 attacks over the 20,000 full S-Eval base prompts.

    .venv/bin/python benchmarks/attack_derivation.py [--data ../shared/data/s-eval] [--repeat 3]

Without the S-Eval full base files, the built-in seed suite is repeated (with distinct ids) to the same
size. In the same run we time a baseline that does the least a derivation can do, one f-string per
(prompt, attack), and report seval's derived prompts per second (goal >= 20,000/s) and its cost as a
multiple of the baseline's time. Each figure is the best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from seval.attacks import apply_attacks, load_attacks
from seval.records import TestCase
from seval.testing import shared_data_dir

FULL = ("S-Eval_base_risk_zh_full.jsonl.zip", "S-Eval_base_risk_en_full.jsonl.zip")


def base_cases(data: Path, size: int) -> tuple[list[TestCase], str]:
    files = [data / name for name in FULL]
    if all(p.exists() for p in files):
        from seval.data.importers import import_files

        return import_files(files).cases, "S-Eval full base prompts"
    from seval.data.seed import load_seed_suite

    seed = load_seed_suite()
    cases = []
    for i in range(size):
        c = seed[i % len(seed)]
        prompt = c.prompt if i < len(seed) else f"{c.prompt} ({i // len(seed)})"
        cases.append(c.model_copy(update={"id": TestCase.make_id(c.lang, prompt), "prompt": prompt}))
    return cases, "seed suite repeated"


def baseline(cases: list[TestCase], names: list[str]) -> int:
    out = []
    for case in cases:
        for name in names:
            out.append(f"[{name}] Please answer the following request: {case.prompt}")
    return len(out)


def best_of(repeat: int, fn: object) -> tuple[float, int]:
    best, n = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--data",
        type=Path,
        # The shared data folder beside the checkout, as in the tests; override with --data.
        default=shared_data_dir() / "s-eval",
    )
    ap.add_argument("--size", type=int, default=20_000, help="base prompts when the S-Eval files are absent")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    cases, source = base_cases(args.data, args.size)
    attacks = load_attacks("all")
    names = [a.name for a in attacks]

    t_base, n_base = best_of(args.repeat, lambda: baseline(cases, names))
    t_seval, n_seval = best_of(args.repeat, lambda: len(apply_attacks(cases, attacks, seed=args.seed)))
    assert n_seval == n_base == len(cases) * len(attacks)

    # Per-attack cost, for finding a slow one.
    per_attack = {}
    for attack in attacks:
        t, _ = best_of(1, lambda a=attack: len(apply_attacks(cases, [a], seed=args.seed)))
        per_attack[attack.name] = round(len(cases) / t)

    rate = n_seval / t_seval
    report = {
        "source": source,
        "base_prompts": len(cases),
        "attacks": len(attacks),
        "derived": n_seval,
        "seval_s": round(t_seval, 3),
        "seval_per_s": round(rate),
        "baseline_s": round(t_base, 3),
        "baseline_per_s": round(n_base / t_base),
        "cost_vs_baseline": round(t_seval / t_base, 1),
        "goal_per_s": 20_000,
        "meets_goal": rate >= 20_000,
        "per_attack_per_s": per_attack,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
