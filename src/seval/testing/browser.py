"""Open a local HTML file in a real headless Chromium and report what a user's browser would see.

The HTML report is one static file with inline SVG and a little JS; string checks on the HTML cannot
tell whether the JS throws, whether the charts have a size, or whether the page quietly reaches for a
CDN. This module drives Chromium over the DevTools protocol with aiohttp's websocket client (already a
dependency), so tests need no playwright/selenium and no browser download: it uses whatever Chromium
is installed (Debian's `chromium`, which scripts/setup.sh installs when it can).

    result = render_page(Path("report.html"), screenshot=tmp / "r.png",
                         checks={"charts": "document.querySelectorAll('svg').length"})
    assert result.console_errors == []
    assert result.checks["charts"] > 0

A page that draws asynchronously sets `window.__sevalReady = false` early and `true` once it is done;
the checks and the screenshot then wait for it (up to `ready_timeout_s`). A page without the flag is
done at its load event.

The browser runs with every host name resolving to "not found", so a page that needs the network
fails at once and visibly (an error in `console_errors`, the URL in `network_requests`) instead of
hanging or passing by luck on a machine that happens to be online.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import orjson

__all__ = ["CheckError", "PageResult", "find_chromium", "render_page", "render_page_async"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell")
MAX_SCREENSHOT_HEIGHT = 16_000
_POLL_S = 0.05
_STDERR_TAIL = 2_000
_T = TypeVar("_T")

# Resolves true once the page sets window.__sevalReady === true, false when it has not by the deadline,
# null when the page does not use the flag at all (then its load event is the end of its work).
_READY_JS = """
new Promise((resolve) => {
  const deadline = Date.now() + %d;
  const poll = () => {
    const flag = window.__sevalReady;
    if (flag === undefined) return resolve(null);
    if (flag === true) return resolve(true);
    if (Date.now() >= deadline) return resolve(false);
    setTimeout(poll, 20);
  };
  poll();
})
"""


@dataclass(frozen=True)
class CheckError:
    """Stands in `PageResult.checks` for a check whose JS threw, so one bad expression shows up in the
    failing assertion instead of hiding what the other checks found."""

    message: str


@dataclass
class PageResult:
    """What the page did. Errors are collected, never raised: the test decides what is acceptable."""

    console_errors: list[str] = field(default_factory=list)
    console_messages: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    screenshot: Path | None = None
    network_requests: list[str] = field(default_factory=list)
    # True: the page set window.__sevalReady; False: it declared the flag but never set it in time;
    # None: the page does not use the flag.
    ready: bool | None = None
    elapsed_s: float = 0.0


def find_chromium() -> str | None:
    """The browser to use: $SEVAL_CHROMIUM when set (returned even if it does not exist, so a wrong
    setting fails loudly instead of silently skipping the browser tests), else the first known
    Chromium-family binary on PATH."""
    override = os.environ.get("SEVAL_CHROMIUM", "").strip()
    if override:
        return shutil.which(override) or override
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_page(
    html_path: Path,
    *,
    screenshot: Path | None = None,
    checks: dict[str, str] | None = None,
    width: int = 1400,
    height: int = 900,
    timeout_s: float = 60,
    ready_timeout_s: float = 5,
    chromium: str | None = None,
    block_network: bool = True,
) -> PageResult:
    """Blocking form of `render_page_async`. Safe to call from inside a running event loop (an async
    test): the browser then runs on its own loop in a worker thread."""
    coro = render_page_async(
        html_path,
        screenshot=screenshot,
        checks=checks,
        width=width,
        height=height,
        timeout_s=timeout_s,
        ready_timeout_s=ready_timeout_s,
        chromium=chromium,
        block_network=block_network,
    )
    return _run_sync(coro)


async def render_page_async(
    html_path: Path,
    *,
    screenshot: Path | None = None,
    checks: dict[str, str] | None = None,
    width: int = 1400,
    height: int = 900,
    timeout_s: float = 60,
    ready_timeout_s: float = 5,
    chromium: str | None = None,
    block_network: bool = True,
) -> PageResult:
    """Load `html_path` in a fresh headless Chromium, run `checks` (name -> JS expression, evaluated in
    the page; a promise is awaited) and optionally save a full-page PNG.

    Every call gets a new browser and a throwaway profile, both gone when this returns or raises.
    Raises RuntimeError (with the tail of Chromium's stderr) when the browser cannot start or dies, and
    TimeoutError when the whole job takes longer than `timeout_s`.
    """
    html_path = Path(html_path)
    if not html_path.is_file():
        raise FileNotFoundError(f"no such HTML file: {html_path}")
    binary = chromium or find_chromium()
    if binary is None:
        raise RuntimeError(
            "no Chromium found: install Debian's `chromium` (scripts/setup.sh does) or set SEVAL_CHROMIUM"
        )
    started = time.monotonic()
    result = PageResult()
    session = _BrowserSession(binary, width=width, height=height, block_network=block_network)
    try:
        async with asyncio.timeout(timeout_s):
            port = await session.start()
            await _drive_page(
                session,
                port,
                html_path.resolve().as_uri(),
                result,
                checks=checks or {},
                screenshot=screenshot,
                width=width,
                height=height,
                ready_timeout_s=ready_timeout_s,
            )
    except TimeoutError:
        if session.stage == "starting chromium":
            raise RuntimeError(
                f"chromium ({binary}) did not open its DevTools port within {timeout_s:g}s; "
                f"stderr tail:\n{session.stderr_tail()}"
            ) from None
        raise TimeoutError(
            f"rendering {html_path} in chromium took over {timeout_s:g}s (stuck at: {session.stage})"
        ) from None
    finally:
        await session.close()
    result.elapsed_s = time.monotonic() - started
    return result


def _run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="seval-browser") as pool:
        return pool.submit(asyncio.run, coro).result()


class _BrowserSession:
    """One Chromium process (and its process group) with a throwaway profile directory."""

    def __init__(self, binary: str, *, width: int, height: int, block_network: bool) -> None:
        self.binary = binary
        self.width = width
        self.height = height
        self.block_network = block_network
        self.stage = "starting chromium"
        self.proc: asyncio.subprocess.Process | None = None
        self.workdir = Path(tempfile.mkdtemp(prefix="seval-chromium-"))
        self.profile = self.workdir / "profile"
        self.stderr_path = self.workdir / "stderr.log"
        self.http: aiohttp.ClientSession | None = None

    def argv(self) -> list[str]:
        args = [
            self.binary,
            "--headless=new",
            # We run as root in containers, where Chromium refuses to start with its sandbox.
            "--no-sandbox",
            "--disable-gpu",
            # Containers often have a 64 MB /dev/shm; Chromium crashes when it runs out.
            "--disable-dev-shm-usage",
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-component-extensions-with-background-pages",
            "--disable-background-networking",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--metrics-recording-only",
            "--mute-audio",
            # Scrollbars would take width from the screenshot, differently per platform.
            "--hide-scrollbars",
            "--password-store=basic",
            "--use-mock-keychain",
            f"--window-size={self.width},{self.height}",
        ]
        if self.block_network:
            args.append("--host-resolver-rules=MAP * ~NOTFOUND")
        args.append("about:blank")
        return args

    async def start(self) -> int:
        """Launch Chromium and return its DevTools port, read from the DevToolsActivePort file that
        Chromium writes once the port is open (no fixed sleep: poll until it appears or the process
        dies; the caller's timeout bounds the wait)."""
        self.profile.mkdir()
        with open(self.stderr_path, "wb") as stderr:
            try:
                self.proc = await asyncio.create_subprocess_exec(
                    *self.argv(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    # Its own process group, so that close() can kill the renderers and helpers too.
                    start_new_session=True,
                )
            except OSError as exc:
                raise RuntimeError(f"could not start chromium ({self.binary}): {exc}") from exc
        port_file = self.profile / "DevToolsActivePort"
        while True:
            if self.proc.returncode is not None:
                raise RuntimeError(
                    f"chromium ({self.binary}) exited with code {self.proc.returncode} before opening "
                    f"its DevTools port; stderr tail:\n{self.stderr_tail()}"
                )
            with contextlib.suppress(OSError, ValueError):
                # Written as "PORT\n/devtools/browser/ID"; a partly written file fails to parse, so retry.
                lines = port_file.read_text().splitlines()
                if len(lines) >= 2 and int(lines[0]) > 0:
                    self.stage = "connecting to chromium"
                    return int(lines[0])
            await asyncio.sleep(_POLL_S)

    async def page_websocket_url(self, port: int) -> str:
        """The websocket of the about:blank tab Chromium opened (retried: the port can be open a moment
        before the tab is listed)."""
        self.http = aiohttp.ClientSession(trust_env=False)
        base = f"http://127.0.0.1:{port}"
        while True:
            self._check_alive()
            with contextlib.suppress(aiohttp.ClientError):
                async with self.http.get(f"{base}/json/list") as resp:
                    if resp.status == 200:
                        targets = await resp.json(content_type=None)
                        for target in targets:
                            if target.get("type") == "page" and target.get("webSocketDebuggerUrl"):
                                return str(target["webSocketDebuggerUrl"])
                async with self.http.put(f"{base}/json/new?about:blank") as resp:
                    if resp.status == 200:
                        target = await resp.json(content_type=None)
                        if target.get("webSocketDebuggerUrl"):
                            return str(target["webSocketDebuggerUrl"])
            await asyncio.sleep(_POLL_S)

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            raise RuntimeError(
                f"chromium exited with code {self.proc.returncode} while {self.stage}; "
                f"stderr tail:\n{self.stderr_tail()}"
            )

    def stderr_tail(self) -> str:
        try:
            data = self.stderr_path.read_bytes()
        except OSError:
            return "(no stderr captured)"
        text = data[-_STDERR_TAIL:].decode("utf-8", "replace").strip()
        return text or "(stderr was empty)"

    async def close(self) -> None:
        """Kill the whole process group and delete the profile. Runs on every path, including timeouts
        and cancellation, so it must not raise and must not wait long."""
        if self.http is not None:
            with contextlib.suppress(Exception):
                await self.http.close()
        proc = self.proc
        if proc is not None:
            if proc.returncode is None:
                _kill_group(proc.pid, signal.SIGTERM)
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(proc.wait(), 3)
            # Always SIGKILL the group as well: renderers can outlive a browser process that has exited.
            _kill_group(proc.pid, signal.SIGKILL)
            if proc.returncode is None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(proc.wait(), 3)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class _Cdp:
    """A minimal DevTools protocol client on one page target: numbered commands, events to handlers."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.failure: Exception | None = None
        self.reader = asyncio.create_task(self._read())

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.failure is not None:
            raise self.failure
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        message = orjson.dumps({"id": self.next_id, "method": method, "params": params or {}})
        # Text frames only: Chromium drops the connection on a binary frame.
        await self.ws.send_str(message.decode())
        return await future

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                data = orjson.loads(msg.data)
                if "id" in data:
                    future = self.pending.pop(data["id"], None)
                    if future is None or future.done():
                        continue
                    if "error" in data:
                        future.set_exception(RuntimeError(f"DevTools error: {data['error']}"))
                    else:
                        future.set_result(data.get("result", {}))
                elif data.get("method") == "Inspector.targetCrashed":
                    self._fail(RuntimeError("the page's renderer crashed"))
                else:
                    handler = self.handlers.get(data.get("method", ""))
                    if handler is not None:
                        handler(data.get("params", {}))
        except Exception as exc:  # a broken connection must reach the waiting command, not vanish
            self._fail(RuntimeError(f"DevTools connection failed: {exc!r}"))
            return
        self._fail(RuntimeError("chromium closed the DevTools connection"))

    def _fail(self, exc: Exception) -> None:
        if self.failure is None:
            self.failure = exc
        for future in self.pending.values():
            if not future.done():
                future.set_exception(exc)
        self.pending.clear()

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.reader
        with contextlib.suppress(Exception):
            await self.ws.close()


async def _drive_page(
    session: _BrowserSession,
    port: int,
    url: str,
    result: PageResult,
    *,
    checks: dict[str, str],
    screenshot: Path | None,
    width: int,
    height: int,
    ready_timeout_s: float,
) -> None:
    ws_url = await session.page_websocket_url(port)
    assert session.http is not None
    ws = await session.http.ws_connect(ws_url, max_msg_size=0, autoping=True)
    cdp = _Cdp(ws)
    loaded = asyncio.Event()
    _collect_events(cdp, result, loaded)
    try:
        session.stage = "setting up the page"
        for domain in ("Inspector", "Runtime", "Log", "Network", "Page"):
            await cdp.send(f"{domain}.enable")
        # Fix the viewport and the pixel ratio so screenshots have the same size on every machine.
        await cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        session.stage = f"loading {url}"
        nav = await cdp.send("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise RuntimeError(f"chromium could not open {url}: {nav['errorText']}")
        await _wait_or_fail(loaded.wait(), cdp)
        session.stage = "waiting for window.__sevalReady"
        ready_ms = max(0, int(ready_timeout_s * 1000))
        value = await _evaluate(cdp, _READY_JS % ready_ms)
        result.ready = value if isinstance(value, bool) else None
        for name, expression in checks.items():
            session.stage = f"evaluating check {name!r}"
            try:
                result.checks[name] = await _evaluate(cdp, expression)
            except _JsError as exc:
                result.checks[name] = CheckError(str(exc))
        if screenshot is not None:
            session.stage = "taking the screenshot"
            await _screenshot(cdp, Path(screenshot), width)
            result.screenshot = Path(screenshot)
        session.stage = "closing"
    finally:
        await cdp.close()


async def _wait_or_fail(awaitable: Awaitable[Any], cdp: _Cdp) -> None:
    """Wait for a page event, but give up as soon as the DevTools connection breaks."""
    waiter = asyncio.ensure_future(awaitable)
    try:
        await asyncio.wait({waiter, cdp.reader}, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():
            raise cdp.failure or RuntimeError("chromium closed the DevTools connection")
    finally:
        waiter.cancel()


def _collect_events(cdp: _Cdp, result: PageResult, loaded: asyncio.Event) -> None:
    def on_console(params: dict[str, Any]) -> None:
        kind = str(params.get("type", "log"))
        text = " ".join(_describe(arg) for arg in params.get("args", []))
        result.console_messages.append(f"console.{kind}: {text}")
        if kind in ("error", "assert"):
            result.console_errors.append(f"console.{kind}: {text}")

    def on_exception(params: dict[str, Any]) -> None:
        details = params.get("exceptionDetails", {})
        exc = details.get("exception") or {}
        text = str(exc.get("description") or details.get("text") or "exception")
        url = str(details.get("url") or "")
        # The description usually carries the stack already; add the location only when it does not.
        where = f" ({url}:{details.get('lineNumber', 0) + 1})" if url and url not in text else ""
        line = f"uncaught exception: {text}{where}"
        result.console_messages.append(line)
        result.console_errors.append(line)

    def on_log(params: dict[str, Any]) -> None:
        entry = params.get("entry", {})
        level = str(entry.get("level", "info"))
        text = str(entry.get("text", ""))
        if entry.get("url"):
            text += f" ({entry['url']})"
        line = f"{entry.get('source', 'log')}.{level}: {text}"
        result.console_messages.append(line)
        if level == "error":
            result.console_errors.append(line)

    def on_request(params: dict[str, Any]) -> None:
        request_url = params.get("request", {}).get("url")
        if request_url:
            result.network_requests.append(str(request_url))

    cdp.handlers["Runtime.consoleAPICalled"] = on_console
    cdp.handlers["Runtime.exceptionThrown"] = on_exception
    cdp.handlers["Log.entryAdded"] = on_log
    cdp.handlers["Network.requestWillBeSent"] = on_request
    cdp.handlers["Page.loadEventFired"] = lambda _params: loaded.set()


class _JsError(Exception):
    pass


async def _evaluate(cdp: _Cdp, expression: str) -> Any:
    reply = await cdp.send(
        "Runtime.evaluate",
        {"expression": expression, "returnByValue": True, "awaitPromise": True, "userGesture": True},
    )
    if "exceptionDetails" in reply:
        details = reply["exceptionDetails"]
        exc = details.get("exception") or {}
        raise _JsError(str(exc.get("description") or details.get("text") or "JS exception"))
    remote = reply.get("result", {})
    if "value" in remote:
        return remote["value"]
    if "unserializableValue" in remote:  # NaN, Infinity, -0, bigints
        return _unserializable(str(remote["unserializableValue"]))
    return None  # undefined


def _unserializable(text: str) -> Any:
    if text.endswith("n"):
        return int(text[:-1])
    return float(text)


def _describe(obj: dict[str, Any]) -> str:
    if "value" in obj:
        value = obj["value"]
        return value if isinstance(value, str) else orjson.dumps(value).decode()
    return str(obj.get("description") or obj.get("unserializableValue") or obj.get("type", "?"))


async def _screenshot(cdp: _Cdp, path: Path, width: int) -> None:
    """A PNG of the whole page, not just the viewport, clipped to the content and capped in height
    (a runaway page could otherwise ask for a bitmap that exhausts memory)."""
    metrics = await cdp.send("Page.getLayoutMetrics")
    content = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
    shot_w = max(1, math.ceil(float(content.get("width") or width)))
    shot_h = max(1, min(math.ceil(float(content.get("height") or 1)), MAX_SCREENSHOT_HEIGHT))
    reply = await cdp.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": shot_w, "height": shot_h, "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(reply["data"]))
