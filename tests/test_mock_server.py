"""The mock server itself: endpoints, fault injection, scripting, counters, thread and CLI modes."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request

import aiohttp
import pytest

from seval.testing.mock_server import REFUSAL_TEXT, REFUSAL_TEXT_ZH, MockOpenAIServer


def _chat_body(prompt: str, **extra: object) -> dict[str, object]:
    return {"model": "mock-model", "messages": [{"role": "user", "content": prompt}], **extra}


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, object]) -> tuple[int, bytes]:
    async with session.post(url + "/chat/completions", json=body) as resp:
        return resp.status, await resp.read()


async def test_health_and_models() -> None:
    async with MockOpenAIServer(models=["a", "b"]) as srv, aiohttp.ClientSession() as s:
        assert srv.port > 0
        assert srv.base_url == f"http://127.0.0.1:{srv.port}/v1"
        async with s.get(f"http://127.0.0.1:{srv.port}/health") as r:
            assert r.status == 200
            assert (await r.json())["status"] == "ok"
        async with s.get(srv.base_url + "/models") as r:
            assert [m["id"] for m in (await r.json())["data"]] == ["a", "b"]


async def test_answers_are_deterministic_with_usage() -> None:
    async with MockOpenAIServer() as srv, aiohttp.ClientSession() as s:
        status, raw = await _post(s, srv.base_url, _chat_body("hello there"))
        assert status == 200
        data = json.loads(raw)
        assert data["object"] == "chat.completion"
        assert data["choices"][0]["message"] == {"role": "assistant", "content": "echo: hello there"}
        assert data["usage"]["completion_tokens"] == 3
        assert data["usage"]["total_tokens"] == data["usage"]["prompt_tokens"] + 3
        for prompt, expected in (("do it [refuse]", REFUSAL_TEXT), ("帮我 [refuse]", REFUSAL_TEXT_ZH)):
            _, raw = await _post(s, srv.base_url, _chat_body(prompt))
            assert json.loads(raw)["choices"][0]["message"]["content"] == expected
        assert srv.status_counts["200"] == 3
        assert srv.prompt_counts["hello there"] == 1


async def test_fail_first_per_prompt() -> None:
    async with MockOpenAIServer(fail_first=2, fail_with=503) as srv, aiohttp.ClientSession() as s:
        statuses = {p: [(await _post(s, srv.base_url, _chat_body(p)))[0] for _ in range(3)] for p in "ab"}
    assert statuses == {"a": [503, 503, 200], "b": [503, 503, 200]}
    assert srv.status_counts == {"503": 4, "200": 2}
    assert srv.prompt_counts == {"a": 3, "b": 3}


async def test_random_faults_are_counted_and_seeded() -> None:
    async def run() -> dict[str, int]:
        async with MockOpenAIServer(error_rate=0.5, seed=3) as srv, aiohttp.ClientSession() as s:
            for i in range(120):
                await _post(s, srv.base_url, _chat_body(f"p{i}"))
            return dict(srv.status_counts)

    first = await run()
    assert sum(first.values()) == 120
    assert set(first) == {"200", "429", "500", "503"}
    assert 30 < first["200"] < 90
    assert await run() == first  # same seed, same sequence


async def test_429_carries_retry_after() -> None:
    async with (
        MockOpenAIServer(rate_limit_rate=1.0, retry_after=2.5) as srv,
        aiohttp.ClientSession() as s,
        s.post(srv.base_url + "/chat/completions", json=_chat_body("x")) as r,
    ):
        assert r.status == 429
        assert r.headers["Retry-After"] == "2.5"
        assert (await r.json())["error"]["code"] == "rate_limit_exceeded"


async def test_script_decides_per_request() -> None:
    seen: list[tuple[str, int]] = []

    def script(prompt: str, nth: int, body: dict[str, object]) -> str | int | None:
        seen.append((prompt, nth))
        return 418 if prompt == "teapot" else None

    async with MockOpenAIServer(script=script) as srv, aiohttp.ClientSession() as s:
        assert (await _post(s, srv.base_url, _chat_body("teapot")))[0] == 418
        assert (await _post(s, srv.base_url, _chat_body("teapot")))[0] == 418
        assert (await _post(s, srv.base_url, _chat_body("fine")))[0] == 200
    assert seen == [("teapot", 1), ("teapot", 2), ("fine", 1)]


async def test_hang_is_released_when_the_client_gives_up() -> None:
    async with MockOpenAIServer(hang_rate=1.0) as srv:
        timeout = aiohttp.ClientTimeout(total=0.2)
        async with aiohttp.ClientSession(timeout=timeout) as s:
            with pytest.raises(asyncio.TimeoutError):
                await _post(s, srv.base_url, _chat_body("x"))
        assert srv.status_counts["hang"] == 1
    # leaving the context returned promptly although a handler was still "hanging"


async def test_bad_requests_get_400() -> None:
    async with MockOpenAIServer() as srv, aiohttp.ClientSession() as s:
        async with s.post(srv.base_url + "/chat/completions", data=b"{not json") as r:
            assert r.status == 400
        assert (await _post(s, srv.base_url, {"model": "m", "messages": []}))[0] == 400


async def test_streaming_sse_with_usage() -> None:
    async with MockOpenAIServer() as srv, aiohttp.ClientSession() as s:
        body = _chat_body("stream me please", stream=True, stream_options={"include_usage": True})
        async with s.post(srv.base_url + "/chat/completions", json=body) as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            raw = (await r.read()).decode()
    events = [line[6:] for line in raw.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "echo: stream me please"
    assert chunks[-1]["usage"]["completion_tokens"] == 4


async def test_legacy_completions_endpoint() -> None:
    async with (
        MockOpenAIServer() as srv,
        aiohttp.ClientSession() as s,
        s.post(srv.base_url + "/completions", json={"model": "m", "prompt": "abc"}) as r,
    ):
        data = await r.json()
    assert data["choices"][0]["text"] == "echo: abc"


def test_invalid_rates_are_rejected() -> None:
    with pytest.raises(ValueError):
        MockOpenAIServer(error_rate=0.8, hang_rate=0.5)
    with pytest.raises(ValueError):
        MockOpenAIServer(drop_rate=-0.1)
    with pytest.raises(ValueError):
        MockOpenAIServer(retry_after_style="weekly")


def test_runs_in_a_thread_for_sync_code() -> None:
    with MockOpenAIServer() as srv:
        req = urllib.request.Request(
            srv.base_url + "/chat/completions",
            data=json.dumps(_chat_body("sync")).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer k"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read())["choices"][0]["message"]["content"] == "echo: sync"
        assert srv.requests[-1].authorization == "Bearer k"
    # stopped: the port no longer accepts connections
    with pytest.raises(OSError):
        urllib.request.urlopen(srv.base_url.replace("/v1", "/health"), timeout=2)


async def test_cli_serves_until_terminated() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "seval.testing.mock_server",
        "--port",
        "0",
        "--latency",
        "0.01",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert "listening on http://127.0.0.1:" in line
        base_url = line.rsplit(" ", 1)[-1].strip()
        async with aiohttp.ClientSession() as s:
            status, raw = await _post(s, base_url, _chat_body("cli"))
        assert status == 200
        assert json.loads(raw)["choices"][0]["message"]["content"] == "echo: cli"
    finally:
        proc.terminate()
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0
    assert b"stopped after 1 requests (200=1)" in out
