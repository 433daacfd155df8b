"""Reports of one or more runs: HTML (self-contained), Markdown, JSON and CSV, all from one metrics
structure (`seval.metrics.compute`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from seval.errors import ConfigError
from seval.metrics.agreement import critic_agreement, load_human_labels
from seval.metrics.compute import compute_metrics
from seval.metrics.examples import unsafe_examples
from seval.metrics.frame import load_frame
from seval.taxonomy import Taxonomy

FORMATS = ("html", "md", "json", "csv")
_SUFFIX = {".html": "html", ".htm": "html", ".md": "md", ".json": "json", ".csv": "csv"}


def build_metrics(
    runs: Sequence[tuple[Path, str | None]],
    taxonomy: Taxonomy,
    *,
    labels: Sequence[Path] = (),
    examples: int | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Everything a report shows, for runs given as (directory, critic id)."""
    frame = load_frame(runs, taxonomy)
    m = compute_metrics(frame)
    m["title"] = title
    m["examples"] = (
        unsafe_examples(frame) if examples is None else unsafe_examples(frame, per_dimension=examples)
    )
    if labels:
        m["agreement"] = critic_agreement(frame, load_human_labels(labels))
    return m


def format_for(out: Path, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown report format '{fmt}' (choose from {', '.join(FORMATS)})")
        return fmt
    guess = _SUFFIX.get(out.suffix.lower())
    if guess is None:
        raise ConfigError(
            f"cannot tell the report format from '{out.name}': use --format {'|'.join(FORMATS)}"
        )
    return guess


def render(m: dict[str, Any], fmt: str) -> str:
    if fmt == "html":
        from seval.report.html import render_html

        return render_html(m)
    if fmt == "md":
        from seval.report.markdown import render_markdown

        return render_markdown(m)
    if fmt == "csv":
        from seval.report.tabular import render_csv

        return render_csv(m)
    return orjson.dumps(m, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode() + "\n"


def write_report(m: dict[str, Any], out: Path, fmt: str) -> Path:
    """Write atomically: a report being regenerated is never seen half-written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(m, fmt), encoding="utf-8")
    os.replace(tmp, out)
    return out
