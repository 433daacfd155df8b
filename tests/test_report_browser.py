"""The HTML report in a real browser: headless Chromium opens it offline from disk, with no console
errors, no network requests, every chart drawn, and a screenshot saved for people to look at.

The screenshot goes to $SEVAL_ARTIFACTS_DIR (default: test-artifacts/ at the repository root) as
report-browser.png. Chromium is Debian's `chromium` package, which scripts/setup.sh installs; without
it the test is skipped, unless SEVAL_REQUIRE_BROWSER=1 makes that a failure.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from seval.testing import run_cli
from seval.testing.browser import find_chromium, render_page

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SEVAL_ARTIFACTS_DIR", REPO / "test-artifacts"))

if find_chromium() is None:
    if os.environ.get("SEVAL_REQUIRE_BROWSER") == "1":
        raise RuntimeError("SEVAL_REQUIRE_BROWSER=1 but no chromium found (install Debian's chromium)")
    pytest.skip("no chromium on this machine (scripts/setup.sh installs it)", allow_module_level=True)

CHECKS = {
    "ready": "window.__sevalReady === true",
    "charts": "document.querySelectorAll('svg.chart').length",
    "charts_drawn": "Array.from(document.querySelectorAll('svg.chart:not(.chart-inline)'))"
    ".filter(s => s.getBoundingClientRect().width > 100 && s.getBoundingClientRect().height > 20).length",
    "heatmap_cells": "document.querySelectorAll('svg.chart-heatmap rect.cell').length",
    "asr_bars": "document.querySelectorAll('svg.chart-bars rect.bar').length",
    "dumbbell_dots": "document.querySelectorAll('svg.chart-dumbbell circle.dot').length",
    "sweep_points": "document.querySelectorAll('svg.chart-line circle.dot').length",
    "leaderboard_rows": "document.querySelectorAll('#leaderboard tbody tr').length",
    "examples_open": "document.querySelectorAll('details.ex[open]').length",
    "examples": "document.querySelectorAll('details.ex').length",
}
# Interactions change the page, so they run in a second load, after the screenshot of the first.
INTERACTIONS = {
    "examples": "document.querySelectorAll('details.ex').length",
    "first_before_sort": "document.querySelector('#leaderboard tbody tr td:nth-child(2) strong').textContent",
    "first_after_sort": "(document.querySelectorAll('#leaderboard th.sortable')[2].click(),"
    " document.querySelector('#leaderboard tbody tr td:nth-child(2) strong').textContent)",
    "expanded": "(document.getElementById('toggle-examples').click(),"
    " document.querySelectorAll('details.ex[open]').length)",
}


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run: seed prompts plus two attacks, two targets, two temperatures, judged by `rules`."""
    tmp = tmp_path_factory.mktemp("browser")
    (tmp / "run.yaml").write_text(
        "name: browser\nsuite: [seed]\nlimit: 32\nattacks: [goal_hijacking, deepinception]\n"
        "targets: [scripted:mixed, scripted:refuse]\ngeneration: {temperature: [0.0, 0.7]}\ncritic: rules\n"
    )
    mp = pytest.MonkeyPatch()
    try:
        capsys = _Capture()
        code, _, err = run_cli(mp, capsys, "run", "--config", str(tmp / "run.yaml"), "--out", str(tmp / "r"))
        assert code == 0, err
        code, _, err = run_cli(mp, capsys, "report", str(tmp / "r"), "--out", str(tmp / "report.html"))
        assert code == 0, err
    finally:
        mp.undo()
    return tmp / "report.html"


class _Capture:
    """capsys is function-scoped; the module fixture only needs the CLI's exit code."""

    def readouterr(self) -> tuple[str, str]:
        return "", ""


def test_report_renders_in_headless_chromium(report_html: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-browser.png"
    result = render_page(report_html, screenshot=shot, checks=CHECKS, width=1400, height=1000)
    assert result.console_errors == []
    offline = ("file:", "data:", "about:")
    assert all(u.startswith(offline) for u in result.network_requests), result.network_requests
    c = result.checks
    assert c["ready"] is True
    # 4 systems (2 targets x 2 temperatures): one heatmap row each, 8 dimensions; the category heatmap
    # is inside a closed <details>, so only the dimension heatmap is measured as drawn.
    assert c["leaderboard_rows"] == 4
    assert c["heatmap_cells"] >= 4 * 8
    assert c["asr_bars"] >= 4 * 3  # base + 2 attacks, per system
    assert c["dumbbell_dots"] >= 4 * 2
    assert c["sweep_points"] == 4  # two targets, two temperatures each
    assert c["charts_drawn"] >= 1 + 1 + 4 + 2  # heatmap, ASR bars, 4 dumbbells, 2 sweeps
    assert c["examples"] > 0 and c["examples_open"] == 0  # drill-down collapsed by default
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 1000 and height > 1000


def test_report_tables_sort_and_examples_expand(report_html: Path) -> None:
    result = render_page(report_html, checks=INTERACTIONS)
    assert result.console_errors == []
    c = result.checks
    assert c["expanded"] == c["examples"] > 0  # the expand-all button opens every example
    assert c["first_before_sort"] != c["first_after_sort"]  # sorting by safety ascending moves the leader
