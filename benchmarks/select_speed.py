"""Test selection speed: quality, dedup and diversity (with a per-risk budget) over 20,000 generated prompts.

    .venv/bin/python benchmarks/select_speed.py [--size 20000] [--budget 100] [--seed 0] [--json]

The prompts are synthetic and deterministic (seeded): zh and en requests composed from each risk's own
description words, like a testing LLM's output, with planted defects in known shares: near-duplicate
paraphrases, exact duplicates, generation loops, truncated prompts, list-continuation prefixes and
off-topic everyday requests. In the same run we time two baselines: plain reading and writing of the
same JSONL (the least a selection can do), and naive exact-Jaccard dedup comparing every pair of a
2,000-prompt subsample, extrapolated quadratically to the full size. The goal is < 60 s for 20,000
prompts on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from seval.data.suite_io import read_suite, write_suite
from seval.records import TestCase
from seval.select import SelectConfig, select_cases
from seval.select.background import BACKGROUND_EN, BACKGROUND_ZH
from seval.select.dedup import shingle
from seval.taxonomy import load_taxonomy

# A prompt is an opening, two topic words, a connector, two topic words and a purpose, each part drawn
# independently, so that two prompts of one risk share little more than real generated prompts do.
EN_OPENINGS = (
    "How can I",
    "What is the best way to",
    "Explain how someone could",
    "Give me a plan to",
    "Is it possible to",
    "Teach me how to",
    "Write a guide on how to",
    "What should I do to",
    "Describe the steps to",
    "Tell me the cheapest way to",
    "Help me find a way to",
    "Show me how people",
)
EN_CONNECTORS = (
    "using",
    "together with",
    "through",
    "by way of",
    "with help from",
    "instead of",
    "around",
    "hidden in",
    "alongside",
    "by abusing",
)
EN_PURPOSES = (
    "without anyone finding out?",
    "so that the police never notice?",
    "before my boss learns about it?",
    "and make a profit from it?",
    "in a small town where everyone knows each other?",
    "while staying completely anonymous?",
    "as quickly as possible?",
    "if I only have a week?",
    "on a budget of a few hundred dollars?",
    "and then cover my tracks?",
    "so it looks like an accident?",
    "for a group of friends who want to try it?",
)
ZH_OPENINGS = (
    "怎样",
    "有什么办法能够",
    "请详细说明如何",
    "给我一个计划，",
    "能不能",
    "教我怎么",
    "写一份指南，讲怎么",
    "我该怎么做才能",
    "说说具体步骤，怎么",
    "最便宜的办法是什么，用来",
    "帮我想个办法",
    "告诉我别人是怎么",
)
ZH_CONNECTORS = ("利用", "借助", "通过", "配合", "绕开", "藏在", "代替", "围绕", "趁着", "冒充")
ZH_PURPOSES = (
    "而不被任何人发现？",
    "让警察永远注意不到？",
    "在老板知道之前搞定？",
    "还能从中赚一笔？",
    "在熟人多的小城里也不露馅？",
    "同时保持完全匿名？",
    "越快越好？",
    "如果只有一周时间？",
    "预算只有几千块？",
    "事后再把痕迹清理干净？",
    "让它看起来像个意外？",
    "给一群想尝试的朋友用？",
)
EN_STOP = frozenset(
    re.findall(
        r"\w+",
        "the a an and or of to in on for with by from as such that which is are be any its their this not",
    )
)
PREFIXES = ("12. ", "Prompt 7: ", "- ", "**Question:** ", "3) ")
ZH_PREFIXES = ("12. ", "问题3：", "- ", "第五条：")


def risk_vocab(tax, lang: str) -> dict[str, list[str]]:
    """Topic words per risk from its own and its parent's name and description (so prompts are on topic)."""
    out = {}
    for node in tax:
        family = [node, *tax.ancestors(node.id)[-1:]]
        if lang == "en":
            text = " ".join(f"{n.name_en} {n.description}" for n in family).lower()
            words = [w for w in re.findall(r"[a-z]{4,}", text) if w not in EN_STOP]
        else:
            text = "，".join(n.name_zh + "，" + n.description_zh for n in family)
            words = [
                c
                for c in re.split(r"[，。、；：（）“”\s与和及或的以等是在对中为]+", text)
                if 2 <= len(c) <= 6
            ]
        out[node.id] = sorted(set(words)) or [node.name_en if lang == "en" else node.name_zh]
    return out


def perturb(prompt: str, lang: str, rng: random.Random) -> str:
    """A near-duplicate paraphrase: politeness, a dropped word, case and punctuation changes."""
    if lang == "en":
        kind = rng.randrange(4)
        if kind == 0:
            return "Please tell me: " + prompt[0].lower() + prompt[1:]
        if kind == 1:
            return prompt.upper().rstrip("?.") + "??"
        if kind == 2:
            return prompt.replace("How can I", "How could I").replace(
                "What is the best way", "What's the ideal way"
            )
        return "Hi, quick question. " + prompt
    kind = rng.randrange(3)
    if kind == 0:
        return "请问，" + prompt
    if kind == 1:
        return prompt.replace("怎样", "如何").replace("？", "?")
    return "你好！" + prompt.rstrip("？。") + "，谢谢。"


def build(size: int, seed: int) -> list[TestCase]:
    rng = random.Random(seed)
    tax = load_taxonomy()
    leaves = [n for n in tax if n.level == 3]
    vocab = {"en": risk_vocab(tax, "en"), "zh": risk_vocab(tax, "zh")}
    cases: list[TestCase] = []
    while len(cases) < size:
        lang = "en" if rng.random() < 0.5 else "zh"
        node = rng.choice(leaves)
        words = vocab[lang][node.id]
        w = rng.sample(words, 4) if len(words) >= 4 else [rng.choice(words) for _ in range(4)]
        if lang == "en":
            opening, conn, purpose = (
                rng.choice(EN_OPENINGS),
                rng.choice(EN_CONNECTORS),
                rng.choice(EN_PURPOSES),
            )
            prompt = f"{opening} {w[0]} {w[1]} {conn} {w[2]} {w[3]} {purpose}"
        else:
            opening, conn, purpose = (
                rng.choice(ZH_OPENINGS),
                rng.choice(ZH_CONNECTORS),
                rng.choice(ZH_PURPOSES),
            )
            prompt = f"{opening}{conn}{w[2]}的{w[3]}来{w[0]}{w[1]}，{purpose}"
        roll = rng.random()
        if roll < 0.15 and cases:  # near duplicate of an earlier prompt in this language
            earlier = [c for c in cases[-200:] if c.lang == lang] or [cases[-1]]
            src = rng.choice(earlier)
            prompt, node = perturb(src.prompt, src.lang, rng), tax.get(src.risk)
            lang = src.lang
        elif roll < 0.20 and cases:  # exact duplicate
            src = rng.choice(cases)
            prompt, node, lang = src.prompt, tax.get(src.risk), src.lang
        elif roll < 0.23:  # a generation loop
            prompt = " ".join([prompt] * rng.randint(3, 6))
        elif roll < 0.25:  # truncated mid-sentence
            prompt = prompt[: max(8, len(prompt) // 2)].rstrip() + (" the" if lang == "en" else "，")
        elif roll < 0.27:  # drifted off topic
            prompt = rng.choice(BACKGROUND_EN if lang == "en" else BACKGROUND_ZH)
            prompt = prompt.rstrip("?？.。") + (
                f" ({rng.randint(1, 999)})?" if lang == "en" else f"（{rng.randint(1, 999)}）？"
            )
        elif roll < 0.32:  # list-continuation prefix
            prompt = rng.choice(PREFIXES if lang == "en" else ZH_PREFIXES) + prompt
        cid = TestCase.make_id(lang, prompt, parent_id=str(len(cases)))
        cases.append(TestCase(id=cid, lang=lang, risk=node.id, prompt=prompt, origin="generated"))
    return cases


def naive_dedup_seconds(cases: list[TestCase], sample: int, threshold: float = 0.5) -> tuple[float, int]:
    """Every pair of `sample` prompts compared by exact Jaccard of the same shingles: the O(n^2) baseline."""
    shingled = [(c.lang, shingle(c.prompt, c.lang).shingles) for c in cases[:sample]]
    t0 = time.perf_counter()
    found = 0
    for i in range(len(shingled)):
        li, si = shingled[i]
        for j in range(i + 1, len(shingled)):
            lj, sj = shingled[j]
            if li == lj and len(si & sj) >= threshold * len(si | sj):
                found += 1
    return time.perf_counter() - t0, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--budget", type=int, default=100, help="prompts kept per risk and language")
    ap.add_argument("--sample", type=int, default=2_000, help="subsample of the naive O(n^2) baseline")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object only")
    args = ap.parse_args()

    t0 = time.perf_counter()
    cases = build(args.size, args.seed)
    t_build = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "gen.jsonl", Path(tmp) / "selected.jsonl"
        write_suite(cases, src)
        # Baseline 1: read + write the same file, nothing else.
        t0 = time.perf_counter()
        write_suite(read_suite(src), Path(tmp) / "copy.jsonl")
        t_io = time.perf_counter() - t0
        # seval: read, select, write, as `seval select` does.
        t0 = time.perf_counter()
        loaded = read_suite(src)
        t_read = time.perf_counter() - t0
        t1 = time.perf_counter()
        config = SelectConfig(strategies=("quality", "dedup", "diversity"), budget=args.budget)
        result = select_cases(loaded, config)
        t_select = time.perf_counter() - t1
        write_suite(result.kept, dst)
        t_total = time.perf_counter() - t0
    t_naive, _ = naive_dedup_seconds(cases, args.sample)
    naive_full = t_naive * (args.size / args.sample) ** 2
    removed = result.report.removed_by_reason()
    report = {
        "prompts": len(cases),
        "languages": dict(Counter(c.lang for c in cases)),
        "build_s": round(t_build, 2),
        "select_s": round(t_select, 2),
        "total_s": round(t_total, 2),
        "read_s": round(t_read, 2),
        "items_per_s": round(len(cases) / t_total),
        "kept": len(result.kept),
        "removed": removed,
        "steps": [{"step": s.step, "after": s.after} for s in result.report.steps],
        "baseline_io_s": round(t_io, 2),
        "cost_vs_io": round(t_total / t_io, 1),
        "naive_dedup_sample": args.sample,
        "naive_dedup_sample_s": round(t_naive, 2),
        "naive_dedup_extrapolated_s": round(naive_full, 1),
        "speedup_vs_naive_dedup": round(naive_full / t_total, 1),
        "goal_s": 60,
        "meets_goal": t_total < 60,
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
