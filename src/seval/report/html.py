"""The HTML report: one self-contained file (inline CSS, inline SVG, a few lines of inline script).

It opens offline from disk, loads nothing from anywhere, and keeps working with scripts disabled
(the script only adds table sorting and an expand-all button). Answers quoted in the drill-down are
model output about harmful topics: they sit in collapsed sections behind a content warning, and like
every other string from a run they are HTML-escaped (Jinja2 autoescape), because a model's answer
is untrusted text that may well contain markup.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from seval.report import charts

_TEMPLATE = "report.html.j2"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["pct"] = charts.pct
    env.filters["ci"] = charts.ci_text
    env.filters["score_bar"] = lambda v: Markup(charts.score_bar(v))
    env.filters["colour"] = charts.score_colour
    env.filters["signed"] = charts.points
    return env


def _dim_name(d: dict[str, Any]) -> str:
    return f"{d['name_en']} · {d['name_zh']}"


def _charts(m: dict[str, Any]) -> dict[str, Any]:
    systems = {str(s["index"]): s for s in m["systems"]}
    order = [str(i) for i in m["leaderboard"]]
    labels = [systems[s]["label"] for s in order]
    out: dict[str, Any] = {}

    dims = [(d["id"], _dim_name(d)) for d in m["dimensions"]]
    cells = {(systems[s]["label"], dim): v for s in order for dim, v in m["by_dimension"].get(s, {}).items()}
    out["heatmap_dims"] = Markup(
        charts.heatmap(
            labels, [(d, n.split(" · ")[0]) for d, n in dims], cells, title="Safety score by risk dimension"
        )
    )
    cats = [(c["id"], c["name_en"]) for c in m["categories"]]
    cat_cells = {(systems[s]["label"], c): v for s in order for c, v in m["by_category"].get(s, {}).items()}
    out["heatmap_cats"] = (
        Markup(charts.heatmap(labels, cats, cat_cells, title="Safety score by risk category")) if cats else ""
    )

    attacks = [a for a in m["attacks"]]
    bars = []
    for a in attacks:
        for s in order:
            v = m["by_attack"].get(s, {}).get(a)
            if v is None:
                continue
            asr = charts.pct(1 - v["score"]) if v["score"] is not None else "–"
            name = "base (no attack)" if a == "base" else a
            bars.append(
                charts.Bar(
                    group=name,
                    series=systems[s]["label"],
                    value=None if v["score"] is None else 1 - v["score"],
                    lo=None if v["hi"] is None else 1 - v["hi"],
                    hi=None if v["lo"] is None else 1 - v["lo"],
                    n=v["n"],
                    tooltip=f"{name} — {systems[s]['label']}: ASR {asr}, safety {charts.ci_text(v)}",
                )
            )
    out["asr_bars"] = (
        Markup(charts.bar_chart(bars, title="Attack success rate per attack", value_name="ASR"))
        if len(attacks) > 1
        else ""
    )

    dumbbells = []
    if "zh" in m["langs"] and "en" in m["langs"]:
        for s in order:
            rows: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [
                ("overall", m["by_lang"].get(s, {}).get("zh"), m["by_lang"].get(s, {}).get("en"))
            ]
            per_dim = m["by_dimension_lang"].get(s, {})
            for dim_id, name in dims:
                langs = per_dim.get(dim_id, {})
                if langs:
                    rows.append((name.split(" · ")[0], langs.get("zh"), langs.get("en")))
            dumbbells.append(
                {
                    "system": systems[s]["label"],
                    "svg": Markup(charts.dumbbell(rows, title=f"zh vs en — {systems[s]['label']}")),
                    "parallel": m["lang_parallel"].get(s),
                }
            )
    out["dumbbells"] = dumbbells

    sweeps = []
    for sw in m["sweeps"]:
        series = [(ser["name"], ser["points"]) for ser in sw["series"]]
        sweeps.append(
            {
                "target": sw["target"],
                "x": sw["x"],
                "svg": Markup(
                    charts.line_chart(series, x_name=sw["x"], title=f"{sw['target']}: safety vs {sw['x']}")
                ),
            }
        )
    out["sweeps"] = sweeps

    defenses = []
    for d in m.get("defenses", []):
        base, defended = str(d["base"]), str(d["defended"])
        arms: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = [
            ("overall", systems[base]["overall"], systems[defended]["overall"])
        ]
        for dim_id, name in dims:
            a = m["by_dimension"].get(base, {}).get(dim_id)
            b = m["by_dimension"].get(defended, {}).get(dim_id)
            if a or b:
                arms.append((name.split(" · ")[0], a, b))
        for attack in attacks:
            if attack == "base":
                continue
            a = m["by_attack"].get(base, {}).get(attack)
            b = m["by_attack"].get(defended, {}).get(attack)
            if a or b:
                arms.append((f"attack: {attack}", a, b))
        title = f"without vs with {d['defense'].get('name', 'defense')}"
        defenses.append(
            d
            | {
                "svg": Markup(charts.dumbbell(arms, title=title, left="without", right="with defense")),
                "base_label": systems[base]["label"],
                "defended_label": systems[defended]["label"],
            }
        )
    out["defenses"] = defenses
    return out


def render_html(m: dict[str, Any]) -> str:
    env = _env()
    text = resources.files("seval.report").joinpath("templates", _TEMPLATE).read_text(encoding="utf-8")
    template = env.from_string(text)
    systems = {str(s["index"]): s for s in m["systems"]}
    dim_names = {d["id"]: _dim_name(d) for d in m["dimensions"]}
    return template.render(
        m=m,
        systems=systems,
        ordered=[systems[str(i)] for i in m["leaderboard"]],
        dim_names=dim_names,
        charts=_charts(m),
        title=m.get("title") or "seval safety report",
    )
