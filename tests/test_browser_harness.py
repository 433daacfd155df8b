"""The headless-browser harness that the HTML report's tests stand on.

If this harness missed console errors or network requests, a broken or CDN-dependent report would
pass its browser test, so each kind of failure is shown to be caught on a tiny page. Tests that need a
browser skip when no Chromium is installed, unless SEVAL_REQUIRE_BROWSER=1 (CI with a browser), where
a missing browser is an error rather than a silent skip.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from seval.testing.browser import CheckError, find_chromium, render_page, render_page_async

CHROMIUM = find_chromium()
REQUIRE_BROWSER = os.environ.get("SEVAL_REQUIRE_BROWSER") == "1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def chromium() -> str:
    if CHROMIUM is None:
        if REQUIRE_BROWSER:
            pytest.fail(
                "SEVAL_REQUIRE_BROWSER=1 but no Chromium was found (PATH or SEVAL_CHROMIUM); "
                "install Debian's chromium (scripts/setup.sh does)",
                pytrace=False,
            )
        pytest.skip(
            "no Chromium installed (scripts/setup.sh installs Debian's chromium, or set SEVAL_CHROMIUM)"
        )
    return CHROMIUM


@pytest.fixture(autouse=True)
def no_leftovers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every render must leave no browser process and no profile directory behind, whatever happened,
    so every test runs with a private temp dir and checks both afterwards."""
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    yield private
    assert list(private.iterdir()) == [], "the Chromium profile directory was not removed"
    assert _processes_mentioning(str(private)) == [], "Chromium processes outlived render_page"


def _processes_mentioning(text: str) -> list[str]:
    """Live processes whose command line contains `text` (the profile path is on Chromium's)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:  # the process ended while we looked
            continue
        if text in args:
            found.append(args)
    return found


def _page(tmp_path: Path, body: str, head: str = "", name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<!doctype html><html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>',
        encoding="utf-8",
    )
    return path


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_clean_page_with_svg_checks_and_full_page_screenshot(chromium: str, tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        '<h1>Report</h1><svg id="bars" width="320" height="120"><rect width="200" height="40" fill="teal"/>'
        '</svg><svg width="50" height="50"><circle r="20" cx="25" cy="25"/></svg>'
        '<div style="height:1500px">tall content below the fold</div>',
        head="<title>clean</title><script>console.log('drawn', 2)</script>",
    )
    shot = tmp_path / "shots" / "clean.png"
    result = render_page(
        page,
        screenshot=shot,
        width=800,
        height=600,
        checks={
            "svgs": "document.querySelectorAll('svg').length",
            "bars_width": "document.getElementById('bars').getBoundingClientRect().width",
            "title": "document.title",
            "async": "new Promise((r) => setTimeout(() => r('later'), 10))",
            "broken": "undefinedFunction()",
            "nothing": "undefined",
        },
    )
    assert result.console_errors == []
    assert "console.log: drawn 2" in result.console_messages
    assert result.checks["svgs"] == 2
    assert result.checks["bars_width"] > 0
    assert result.checks["title"] == "clean"
    assert result.checks["async"] == "later"
    assert isinstance(result.checks["broken"], CheckError)
    assert "undefinedFunction" in result.checks["broken"].message
    assert result.checks["nothing"] is None
    assert result.ready is None
    assert result.network_requests == [page.resolve().as_uri()]
    assert result.screenshot == shot
    width, height = _png_size(shot)
    assert width == 800
    assert height >= 1500  # the whole page, not only the 600 px viewport


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("console.error('x')", "console.error: x"),
        ("throw new Error('boom at load')", "boom at load"),
        ("setTimeout(() => { null.property; }, 0)", "TypeError"),
    ],
    ids=["console-error", "uncaught-exception", "uncaught-in-timer"],
)
def test_errors_on_the_page_are_reported(chromium: str, tmp_path: Path, script: str, expected: str) -> None:
    # The page holds its ready flag until after the timer so that the asynchronous error is seen.
    page = _page(
        tmp_path,
        f"<p>hi</p><script>window.__sevalReady = false;</script><script>{script}</script>"
        "<script>setTimeout(() => { window.__sevalReady = true; }, 50)</script>",
    )
    result = render_page(page)
    assert any(expected in error for error in result.console_errors), result.console_errors
    assert result.ready is True


def test_ready_flag_is_waited_for(chromium: str, tmp_path: Path) -> None:
    page = _page(
        tmp_path,
        '<div id="chart" data-state="pending"></div><script>window.__sevalReady = false;'
        "setTimeout(() => { document.getElementById('chart').dataset.state = 'drawn';"
        " window.__sevalReady = true; }, 300);</script>",
    )
    result = render_page(page, checks={"state": "document.getElementById('chart').dataset.state"})
    assert result.ready is True
    assert result.checks["state"] == "drawn"
    assert result.console_errors == []


async def test_ready_flag_never_set_gives_up_and_still_runs_checks(chromium: str, tmp_path: Path) -> None:
    # Also covers the blocking wrapper called from inside a running event loop.
    page = _page(tmp_path, "<p id='p'>stuck</p><script>window.__sevalReady = false;</script>")
    result = render_page(
        page, ready_timeout_s=0.3, checks={"text": "document.getElementById('p').textContent"}
    )
    assert result.ready is False
    assert result.checks["text"] == "stuck"


async def test_network_requests_are_recorded_and_fail_fast(chromium: str, tmp_path: Path) -> None:
    page = _page(tmp_path, "<p>needs a CDN</p>", head='<script src="https://cdn.example.com/x.js"></script>')
    result = await render_page_async(page, timeout_s=30)
    assert "https://cdn.example.com/x.js" in result.network_requests
    assert any("cdn.example.com" in error for error in result.console_errors), result.console_errors


@pytest.mark.slow
def test_a_hung_page_times_out_and_the_browser_is_killed(chromium: str, tmp_path: Path) -> None:
    page = _page(tmp_path, "<script>while (true) {}</script>")
    with pytest.raises(TimeoutError, match="took over 6s"):
        render_page(page, timeout_s=6)
    # no_leftovers checks that the browser and its profile are gone.


def test_a_browser_that_fails_to_start_raises_with_its_stderr(tmp_path: Path) -> None:
    fake = tmp_path / "fake-chromium"
    fake.write_text("#!/bin/sh\necho 'cannot open display: nothing here' >&2\nexit 3\n")
    fake.chmod(0o755)
    page = _page(tmp_path, "<p>x</p>")
    with pytest.raises(RuntimeError, match=r"(?s)exited with code 3.*cannot open display"):
        render_page(page, chromium=str(fake), timeout_s=30)
    with pytest.raises(RuntimeError, match="could not start chromium"):
        render_page(page, chromium=str(tmp_path / "missing"), timeout_s=30)
    with pytest.raises(FileNotFoundError):
        render_page(tmp_path / "absent.html", chromium=str(fake))


def test_find_chromium_prefers_the_env_override_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    chrome = bin_dir / "google-chrome"
    chrome.write_text("#!/bin/sh\n")
    chrome.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("SEVAL_CHROMIUM", raising=False)
    assert find_chromium() == str(chrome)
    monkeypatch.setenv("SEVAL_CHROMIUM", "google-chrome")
    assert find_chromium() == str(chrome)
    # Kept even when absent, so that a wrong setting fails loudly instead of skipping the browser tests.
    monkeypatch.setenv("SEVAL_CHROMIUM", "/opt/custom/chrome")
    assert find_chromium() == "/opt/custom/chrome"
    monkeypatch.setenv("SEVAL_CHROMIUM", "")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_chromium() is None
