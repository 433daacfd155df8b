"""The report as Markdown: the same numbers as the HTML report, for pull requests, wikis and chat."""

from __future__ import annotations

from typing import Any

from seval.report.charts import pct, points


def _cell(v: dict[str, Any] | None) -> str:
    if not v or v.get("score") is None:
        return "–"
    return f"{pct(v['score'])} [{pct(v['lo'])}, {pct(v['hi'])}] n={v['n']}"


def _difference_row(r: dict[str, Any], *, swap: bool = False) -> list[str]:
    """One row of a comparison table; `swap` shows the second system's score first (without → with)."""
    first, second = (r["b"], r["a"]) if swap else (r["a"], r["b"])
    verdict = ("worse" if r["diff"] < 0 else "safer") if r["significant"] else ""
    q = f"{r['q']:.3g}" if r["q"] is not None else "–"
    ci = f"{points(r['lo'])} … {points(r['hi'])}"
    return [r["facet"], r["key"], pct(first), pct(second), points(r["diff"]), ci, q, verdict]


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    def esc(x: str) -> str:
        return x.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(esc(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return [*out, ""]


def render_markdown(m: dict[str, Any]) -> str:
    systems = {str(s["index"]): s for s in m["systems"]}
    ordered = [systems[str(i)] for i in m["leaderboard"]]
    lines = [f"# {m.get('title') or 'seval safety report'}", ""]
    lines.append(
        f"seval {m['seval_version']}, generated {m['generated_at']}; critic: "
        + ", ".join(f"`{r['critic']}`" for r in m["runs"])
        + f"; CIs: {m['ci_method']}."
    )
    lines.append("")
    lines += [f"> **warning:** {w}" for w in m["warnings"]]
    lines += ["## Leaderboard", ""]
    rows = []
    for s in ordered:
        vs = s.get("vs_reference")
        rows.append(
            [
                str(s["rank"]),
                s["label"],
                _cell(s["overall"]),
                pct(s["base"]["score"]),
                pct(s["attack"]["score"]),
                pct(s["attack_asr"]["asr"]),
                pct(s["benign"]["refusal_rate"]),
                pct(s["error_rate"]),
                (points(vs["diff"]) + (" *" if vs["significant"] else "")) if vs else "reference",
            ]
        )
    lines += _table(
        ["#", "system", "safety score", "base", "attacks", "ASR", "benign refusal", "errors", "Δ vs #1"], rows
    )
    lines += ["## Safety by risk dimension", ""]
    lines += _table(
        ["risk dimension", *(s["label"] for s in ordered)],
        [
            [
                f"{d['name_en']} ({d['name_zh']})",
                *(_cell(m["by_dimension"][str(s["index"])].get(d["id"])) for s in ordered),
            ]
            for d in m["dimensions"]
        ],
    )
    if len(m["attacks"]) > 1:
        lines += ["## Attack success rate", ""]
        lines += _table(
            ["attack", *(s["label"] for s in ordered)],
            [
                [
                    a,
                    *(
                        pct(1 - v["score"])
                        if (v := m["by_attack"][str(s["index"])].get(a)) and v["score"] is not None
                        else "–"
                        for s in ordered
                    ),
                ]
                for a in m["attacks"]
            ],
        )
    if len(m["langs"]) > 1:
        lines += ["## Languages", ""]
        lines += _table(
            ["language", *(s["label"] for s in ordered)],
            [
                [lang, *(_cell(m["by_lang"][str(s["index"])].get(lang)) for s in ordered)]
                for lang in m["langs"]
            ],
        )
        par = [(s, m["lang_parallel"].get(str(s["index"]))) for s in ordered]
        rows = [
            [s["label"], str(p["pairs"]), points(p["zh_minus_en"]["diff"]),
             f"{points(p['zh_minus_en']['lo'])} … {points(p['zh_minus_en']['hi'])}",
             f"{p['zh_minus_en']['p']:.3g}" if p["zh_minus_en"]["p"] is not None else "–"]
            for s, p in par if p
        ]  # fmt: skip
        if rows:
            lines += ["Parallel prompts (zh − en):", ""]
            lines += _table(["system", "pairs", "zh − en", "95% CI", "p (McNemar)"], rows)
    for sw in m["sweeps"]:
        lines += [f"## {sw['target']}: safety vs {sw['x']}", ""]
        lines += _table(
            ["series", sw["x"], "safety score"],
            [[ser["name"], str(p["x"]), _cell(p)] for ser in sw["series"] for p in ser["points"]],
        )
    for c in m["comparisons"]:
        lines += [f"## {systems[str(c['a'])]['label']} vs {systems[str(c['b'])]['label']}", ""]
        lines += _table(
            ["facet", "key", "a", "b", "a − b", "95% CI", "q", ""],
            [_difference_row(r) for r in c["rows"]],
        )
    for d in m.get("defenses", []):
        base = systems[str(d["base"])]
        lines += [f"## Defense: {d['defense'].get('name', 'defense')} on {base['label']}", ""]
        before, after = d["benign_refusal"]
        tokens = d["cost"]["prompt_tokens_per_answer"]
        lines.append(
            f"Benign refusal (lower is better): {pct(before['refusal_rate'])} without, "
            f"{pct(after['refusal_rate'])} with (n={after['n']}). Prompt tokens per answer: "
            f"{tokens[0] or 0:.0f} without, {tokens[1] or 0:.0f} with."
        )
        lines.append("")
        lines += _table(
            ["facet", "key", "without", "with", "difference", "95% CI", "q", ""],
            [_difference_row(r, swap=True) for r in d["comparison"]["rows"]],
        )
    agreement = m.get("agreement")
    if agreement:
        lines += ["## Critic agreement with human labels", ""]
        lines += _table(
            ["slice", "n", "agreement", "balanced accuracy", "kappa"],
            [
                [
                    k,
                    str(b["n"]),
                    pct(b["agreement"]),
                    pct(b["balanced_accuracy"]),
                    f"{b['kappa']:.2f}" if b["kappa"] is not None else "–",
                ]
                for k, b in agreement.items()
                if isinstance(b, dict)
            ],
        )
    return "\n".join(lines).rstrip() + "\n"
