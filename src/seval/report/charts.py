"""Inline SVG charts for the HTML report, drawn in Python.

Why not a JavaScript chart library: the report must open offline, from a file, forever, and pass an
audit of what it loads. Static SVG needs no script, no CDN and no network, prints well, and stays
readable if someone opens the file in ten years. Every mark carries a <title> so hovering shows the
exact figure, its confidence interval and its n.

All text that reaches an SVG goes through `esc`: labels come from user data (target names, attack
names) and must never become markup.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

# Safety score colour scale: red (unsafe) -> amber -> green (safe). Colour-blind safe enough together
# with the printed value in every cell.
_STOPS = (
    (0.0, (0xC0, 0x39, 0x2B)),
    (0.5, (0xF1, 0xC4, 0x0F)),
    (0.8, (0xA3, 0xD9, 0x77)),
    (1.0, (0x1E, 0x84, 0x49)),
)
PALETTE = ("#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#65a30d", "#dc2626")
_FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, Noto Sans CJK SC, sans-serif"'


def esc(text: Any) -> str:
    return escape(str(text), quote=True)


def score_colour(score: float | None) -> str:
    if score is None or math.isnan(score):
        return "#e5e7eb"
    s = min(1.0, max(0.0, score))
    for (x0, c0), (x1, c1) in itertools.pairwise(_STOPS):
        if s <= x1:
            t = 0 if x1 == x0 else (s - x0) / (x1 - x0)
            r, g, b = (round(a + (b_ - a) * t) for a, b_ in zip(c0, c1, strict=True))
            return f"#{r:02x}{g:02x}{b:02x}"
    return "#1e8449"


def text_colour(score: float | None) -> str:
    return "#ffffff" if score is not None and (score < 0.25 or score > 0.9) else "#111827"


def pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x * 100:.{digits}f}%"


def points(x: float | None) -> str:
    """A difference of two shares in percentage points, signed."""
    return "–" if x is None else f"{x * 100:+.1f} pt"


def ci_text(v: dict[str, Any], key: str = "score") -> str:
    if v.get(key) is None:
        return "no judged answers"
    return f"{pct(v[key])} (95% CI {pct(v.get('lo'))}–{pct(v.get('hi'))}, n={v.get('n', 0)})"


def _svg(width: float, height: float, body: str, label: str, kind: str) -> str:
    return (
        f'<svg class="chart chart-{kind}" role="img" aria-label="{esc(label)}" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" {_FONT} font-size="12">'
        f"<title>{esc(label)}</title>{body}</svg>"
    )


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap for SVG labels (SVG text does not wrap by itself)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], _truncate(" ".join(lines[max_lines - 1 :]), width)]
    return lines or [""]


def _axis_ticks(x0: float, width: float, y0: float, y1: float, *, fmt: str = "pct") -> str:
    out = []
    for i in range(0, 11, 2):
        v = i / 10
        x = x0 + v * width
        out.append(f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}" stroke="#e5e7eb"/>')
        out.append(
            f'<text x="{x:.1f}" y="{y1 + 14:.1f}" text-anchor="middle" fill="#6b7280">{v * 100:.0f}%</text>'
        )
    return "".join(out)


@dataclass(frozen=True)
class Bar:
    """One bar: a value in [0, 1] with its CI; `group` labels the row, `series` the colour."""

    group: str
    series: str
    value: float | None
    lo: float | None
    hi: float | None
    n: int
    tooltip: str = ""


def bar_chart(bars: Sequence[Bar], *, title: str, value_name: str, colour_by_value: bool = False) -> str:
    """Horizontal grouped bars with CI whiskers (one row group per `group`, one bar per `series`)."""
    groups = list(dict.fromkeys(b.group for b in bars))
    series = list(dict.fromkeys(b.series for b in bars))
    bar_h, gap = 14, 10
    label_w, plot_w, right = 240, 460, 70
    width = label_w + plot_w + right
    # Legend items flow left to right and wrap, so long system names never run off the chart.
    legend: list[str] = []
    x, y = float(label_w), 4.0
    for i, s in enumerate(series if len(series) > 1 else []):
        name = _truncate(s, 40)
        item_w = 24 + 6.6 * len(name)
        if x + item_w > width and x > label_w:
            x, y = float(label_w), y + 18
        colour = PALETTE[i % len(PALETTE)]
        legend.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="10" height="10" rx="2" fill="{colour}"/>')
        legend.append(
            f'<text x="{x + 14:.0f}" y="{y + 9:.0f}" fill="#374151">{esc(name)}<title>{esc(s)}</title></text>'
        )
        x += item_w
    legend_h = (y + 18) if legend else 0
    group_h = len(series) * bar_h + gap
    height = legend_h + len(groups) * group_h + 28
    top = legend_h + 4
    body = [_axis_ticks(label_w, plot_w, top, height - 22), *legend]
    by_key = {(b.group, b.series): b for b in bars}
    for gi, g in enumerate(groups):
        y0 = top + gi * group_h
        body.append(
            f'<text x="{label_w - 8}" y="{y0 + group_h / 2:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'fill="#111827">{esc(_truncate(g, 30))}<title>{esc(g)}</title></text>'
        )
        for si, s in enumerate(series):
            b = by_key.get((g, s))
            if b is None:
                continue
            y = y0 + si * bar_h
            tip = esc(
                b.tooltip
                or f"{g} — {s}: {value_name} {pct(b.value)} (95% CI {pct(b.lo)}–{pct(b.hi)}, n={b.n})"
            )
            if b.value is None:
                body.append(
                    f'<text x="{label_w + 4}" y="{y + 11}" fill="#9ca3af">no data<title>{tip}</title></text>'
                )
                continue
            colour = score_colour(1 - b.value) if colour_by_value else PALETTE[si % len(PALETTE)]
            w = max(1.0, b.value * plot_w)
            body.append(
                f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 4}" rx="2" '
                f'fill="{colour}" fill-opacity="0.85"><title>{tip}</title></rect>'
            )
            if b.lo is not None and b.hi is not None:
                x_lo, x_hi = label_w + b.lo * plot_w, label_w + b.hi * plot_w
                yc = y + bar_h / 2
                body.append(
                    f'<path d="M{x_lo:.1f},{yc:.1f}H{x_hi:.1f}M{x_lo:.1f},{yc - 4:.1f}V{yc + 4:.1f}'
                    f'M{x_hi:.1f},{yc - 4:.1f}V{yc + 4:.1f}" stroke="#111827" stroke-width="1.2" fill="none"/>'
                )
            body.append(f'<text x="{label_w + plot_w + 6}" y="{y + 11}" fill="#374151">{pct(b.value)}</text>')
    return _svg(width, height, "".join(body), title, "bars")


def heatmap(
    rows: Sequence[str],
    cols: Sequence[tuple[str, str]],
    cells: dict[tuple[str, str], dict[str, Any]],
    *,
    title: str,
) -> str:
    """Rows x columns of safety scores; `cols` are (id, display name) pairs; a cell dict is a Score."""
    cell_w, cell_h = 100, 34
    label_w, head_h = 250, 70
    width = label_w + cell_w * len(cols) + 10
    height = head_h + cell_h * len(rows) + 10
    body = []
    for ci, (_, name) in enumerate(cols):
        x = label_w + ci * cell_w + cell_w / 2
        lines = _wrap(name, 14, 3)
        spans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if i == 0 else 13}">{esc(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        body.append(
            f'<text x="{x:.1f}" y="{head_h - 8 - 13 * (len(lines) - 1)}" text-anchor="middle" fill="#374151">'
            f"{spans}<title>{esc(name)}</title></text>"
        )
    for ri, row in enumerate(rows):
        y = head_h + ri * cell_h
        body.append(
            f'<text x="{label_w - 8}" y="{y + cell_h / 2:.1f}" text-anchor="end" dominant-baseline="middle" '
            f'fill="#111827">{esc(_truncate(row, 38))}<title>{esc(row)}</title></text>'
        )
        for ci, (col_id, name) in enumerate(cols):
            x = label_w + ci * cell_w
            v = cells.get((row, col_id))
            score = v.get("score") if v else None
            tip = esc(f"{row} — {name}: " + (ci_text(v) if v else "not tested"))
            body.append(
                f'<rect class="cell" x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" rx="4" '
                f'fill="{score_colour(score)}"><title>{tip}</title></rect>'
            )
            txt = pct(score, 0) if v else "·"
            body.append(
                f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 1:.1f}" text-anchor="middle" '
                f'dominant-baseline="middle" fill="{text_colour(score)}" font-weight="600" '
                f'pointer-events="none">{txt}</text>'
            )
    return _svg(width, height, "".join(body), title, "heatmap")


def dumbbell(
    rows: Sequence[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
    *,
    title: str,
    left: str = "zh",
    right: str = "en",
) -> str:
    """Two scores per row joined by a line (zh vs en), so the gap between them is what the eye sees."""
    row_h, label_w, plot_w = 26, 200, 460
    height = 30 + row_h * len(rows) + 24
    width = label_w + plot_w + 30
    colours = {left: PALETTE[1], right: PALETTE[0]}
    legend_gap = max(70, 8 * len(left) + 30)
    body = [_axis_ticks(label_w, plot_w, 26, height - 22)]
    for i, name in enumerate((left, right)):
        x = label_w + i * legend_gap
        body.append(f'<circle cx="{x + 5}" cy="12" r="5" fill="{colours[name]}"/>')
        body.append(f'<text x="{x + 14}" y="16" fill="#374151">{esc(name)}</text>')
    for i, (label, a, b) in enumerate(rows):
        y = 30 + i * row_h + row_h / 2
        body.append(
            f'<text x="{label_w - 8}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" fill="#111827">'
            f"{esc(_truncate(label, 30))}<title>{esc(label)}</title></text>"
        )
        pts = []
        for name, v in ((left, a), (right, b)):
            if v and v.get("score") is not None:
                pts.append((name, label_w + v["score"] * plot_w, v))
        if len(pts) == 2:
            body.append(
                f'<line x1="{pts[0][1]:.1f}" y1="{y:.1f}" x2="{pts[1][1]:.1f}" y2="{y:.1f}" stroke="#9ca3af" '
                'stroke-width="3"/>'
            )
        for name, x, v in pts:
            body.append(
                f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colours[name]}">'
                f"<title>{esc(f'{label} — {name}: ' + ci_text(v))}</title></circle>"
            )
    return _svg(width, height, "".join(body), title, "dumbbell")


def line_chart(
    series: Sequence[tuple[str, Sequence[dict[str, Any]]]],
    *,
    x_name: str,
    title: str,
) -> str:
    """Safety score against a decoding parameter, one line per series, with a shaded 95% CI band."""
    xs = [float(p["x"]) for _, pts in series for p in pts if p.get("x") is not None]
    if not xs:
        return ""
    x_min, x_max = min(xs), max(xs)
    span = (x_max - x_min) or 1.0
    left, top, plot_w, plot_h = 56, 28, 520, 220
    width, height = left + plot_w + 30, top + plot_h + 46

    def px(x: float) -> float:
        return left + (x - x_min) / span * plot_w

    def py(v: float) -> float:
        return top + (1 - v) * plot_h

    body = []
    for i in range(0, 11, 2):
        v = i / 10
        body.append(
            f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" stroke="#e5e7eb"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" fill="#6b7280">{v * 100:.0f}%</text>'
        )
    for x in sorted(set(xs)):
        body.append(
            f'<text x="{px(x):.1f}" y="{top + plot_h + 16}" text-anchor="middle" fill="#6b7280">{x:g}</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 36}" text-anchor="middle" fill="#374151">{esc(x_name)}</text>'
    )
    for si, (name, pts) in enumerate(series):
        colour = PALETTE[si % len(PALETTE)]
        ok = [p for p in pts if p.get("x") is not None and p.get("score") is not None]
        if not ok:
            continue
        band = [p for p in ok if p.get("lo") is not None and p.get("hi") is not None]
        if len(band) >= 2:
            upper = " ".join(f"{px(float(p['x'])):.1f},{py(p['hi']):.1f}" for p in band)
            lower = " ".join(f"{px(float(p['x'])):.1f},{py(p['lo']):.1f}" for p in reversed(band))
            body.append(f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15"/>')
        line = " ".join(f"{px(float(p['x'])):.1f},{py(p['score']):.1f}" for p in ok)
        body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for p in ok:
            tip = esc(f"{name}, {x_name}={p['x']}: " + ci_text(p))
            body.append(
                f'<circle class="dot" cx="{px(float(p["x"])):.1f}" cy="{py(p["score"]):.1f}" r="4.5" '
                f'fill="{colour}"><title>{tip}</title></circle>'
            )
        if len(series) > 1:
            body.append(f'<text x="{left + 8}" y="{top + 14 + si * 16}" fill="{colour}">{esc(name)}</text>')
    return _svg(width, height, "".join(body), title, "line")


def score_bar(v: dict[str, Any], width: int = 160) -> str:
    """A small inline bar with CI whisker, for table cells."""
    score = v.get("score")
    if score is None:
        return '<span class="muted">–</span>'
    h = 12
    body = [
        f'<rect x="0" y="2" width="{width}" height="{h - 4}" rx="3" fill="#f3f4f6"/>',
        f'<rect class="bar" x="0" y="2" width="{max(1.0, score * width):.1f}" height="{h - 4}" rx="3" '
        f'fill="{score_colour(score)}"/>',
    ]
    if v.get("lo") is not None and v.get("hi") is not None:
        x0, x1 = v["lo"] * width, v["hi"] * width
        body.append(
            f'<path d="M{x0:.1f},{h / 2}H{x1:.1f}M{x0:.1f},1V{h - 1}M{x1:.1f},1V{h - 1}" stroke="#111827" '
            'stroke-width="1.2" fill="none"/>'
        )
    return (
        f'<svg class="chart chart-inline" width="{width}" height="{h}" viewBox="0 0 {width} {h}" role="img" '
        f'aria-label="{esc(ci_text(v))}"><title>{esc(ci_text(v))}</title>{"".join(body)}</svg>'
    )
