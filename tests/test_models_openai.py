"""The aiohttp OpenAI-compatible adapter against the local mock server, and the mock against the SDK."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from seval.errors import ConfigError, ModelError, TransientModelError
from seval.models import load_model
from seval.models.base import TargetOptions, build_messages
from seval.models.openai_compat import (
    OpenAICompatModel,
    from_compatible_spec,
    from_dashscope_spec,
    from_ollama_spec,
    from_openai_spec,
    parse_retry_after,
)
from seval.records import GenerationConfig
from seval.testing.mock_server import MockOpenAIServer

SECRET = "sk-test-Secret-0123456789abcdef"
CFG = GenerationConfig()


def _model(srv: MockOpenAIServer, **opts: Any) -> OpenAICompatModel:
    return from_compatible_spec(f"mock-model@{srv.base_url}", TargetOptions(**opts))


@pytest.fixture
async def openai_mock_server() -> AsyncIterator[MockOpenAIServer]:
    async with MockOpenAIServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_ambient_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys in the developer's environment must not change what these tests see."""
    for var in ("SEVAL_API_KEY", "OPENAI_API_KEY", "DASHSCOPE_API_KEY"):
        monkeypatch.delenv(var, raising=False)


async def _generate(model: OpenAICompatModel, prompt: str, cfg: GenerationConfig = CFG) -> Any:
    try:
        return await model.generate(build_messages(prompt, cfg), cfg)
    finally:
        await model.aclose()


# --- request and response mapping ---------------------------------------------------------------------


async def test_request_body_maps_generation_config(openai_mock_server: MockOpenAIServer) -> None:
    cfg = GenerationConfig(
        temperature=0.3, top_p=0.9, max_tokens=20, seed=5, stop=("END", "\n\n"), system_prompt="Be brief."
    )
    model = _model(openai_mock_server, extra_body={"presence_penalty": 0.5})
    out = await _generate(model, "hello model", cfg)
    body = openai_mock_server.requests[-1].body
    assert body == {
        "model": "mock-model",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello model"}],
        "temperature": 0.3,
        "top_p": 0.9,
        "max_tokens": 20,
        "seed": 5,
        "stop": ["END", "\n\n"],
        "presence_penalty": 0.5,
    }
    assert out.text == "echo: hello model"
    assert out.prompt_tokens == 10  # the mock counts words + 3 per message
    assert out.completion_tokens == 3
    assert out.finish_reason == "stop"
    assert 0 < out.latency_s < 5
    assert out.reasoning is None and out.top_logprobs is None


async def test_defaults_and_null_extra_body_removes_fields(openai_mock_server: MockOpenAIServer) -> None:
    model = _model(openai_mock_server, extra_body={"temperature": None, "top_p": None})
    await _generate(model, "x")
    body = openai_mock_server.requests[-1].body
    assert "temperature" not in body and "top_p" not in body
    assert body["max_tokens"] == 256
    assert "seed" not in body and "stop" not in body and "logprobs" not in body


async def test_reasoning_split_from_field_and_think_block(openai_mock_server: MockOpenAIServer) -> None:
    out = await _generate(_model(openai_mock_server), "why [reasoning]")
    assert out.text == "echo: why [reasoning]"
    assert out.reasoning == "mock reasoning: why [reasoning]"
    out = await _generate(_model(openai_mock_server), "why [think]")
    assert out.text == "echo: why [think]"
    assert out.reasoning == "mock thoughts about why [think]"


async def test_reasoning_field_named_reasoning() -> None:
    def responder(prompt: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"role": "assistant", "content": "final", "reasoning": "thinking hard"}

    async with MockOpenAIServer(responder=responder) as srv:
        out = await _generate(_model(srv), "q")
    assert (out.text, out.reasoning) == ("final", "thinking hard")


async def test_refusal_field_used_when_content_is_null() -> None:
    async with MockOpenAIServer(
        responder=lambda p, b: {"role": "assistant", "content": None, "refusal": "I can't."}
    ) as srv:
        out = await _generate(_model(srv), "q")
    assert out.text == "I can't."


async def test_content_parts_are_joined() -> None:
    parts = [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]
    async with MockOpenAIServer(responder=lambda p, b: {"role": "assistant", "content": parts}) as srv:
        assert (await _generate(_model(srv), "q")).text == "Hello, world"


async def test_logprobs_requested_and_parsed(openai_mock_server: MockOpenAIServer) -> None:
    out = await _generate(_model(openai_mock_server, logprobs=True), "alpha beta gamma delta epsilon zeta")
    body = openai_mock_server.requests[-1].body
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert out.top_logprobs is not None
    assert len(out.top_logprobs) == 5
    first = out.top_logprobs[0]
    assert first["echo:"] == pytest.approx(-0.1)
    assert len(first) == 5


# --- errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "expected"), [("seconds", 3.0), ("ms", 3.0), ("http-date", 3.0), ("none", None)]
)
async def test_429_is_transient_with_retry_after(style: str, expected: float | None) -> None:
    async with MockOpenAIServer(rate_limit_rate=1.0, retry_after=3, retry_after_style=style) as srv:
        with pytest.raises(TransientModelError) as info:
            await _generate(_model(srv), "x")
    assert info.value.rate_limited is True
    assert "429" in str(info.value)
    if expected is None:
        assert info.value.retry_after is None
    else:
        assert info.value.retry_after == pytest.approx(expected, abs=1.1)


@pytest.mark.parametrize("status", [500, 503, 502, 408, 409])
async def test_server_errors_are_transient(status: int) -> None:
    async with MockOpenAIServer(fail_first=1, fail_with=status) as srv:
        model = _model(srv)
        with pytest.raises(TransientModelError) as info:
            await model.generate(build_messages("x", CFG), CFG)
        assert info.value.rate_limited is False
        assert str(status) in str(info.value)
        # the same model works on the next attempt: the engine's retry will succeed
        out = await _generate(model, "x")
    assert out.text == "echo: x"


@pytest.mark.parametrize("fault", ["drop", "truncate", "invalid_json", "html"])
async def test_broken_transport_or_body_is_transient(fault: str) -> None:
    async with MockOpenAIServer(script=lambda p, n, b: fault if n == 1 else None) as srv:
        model = _model(srv)
        with pytest.raises(TransientModelError):
            await model.generate(build_messages("x", CFG), CFG)
        assert (await _generate(model, "x")).text == "echo: x"
    assert srv.status_counts[fault] == 1


async def test_200_that_is_not_a_completion_is_transient() -> None:
    async with MockOpenAIServer(script=lambda p, n, b: "error_200") as srv:
        with pytest.raises(TransientModelError, match="upstream failed"):
            await _generate(_model(srv), "x")
    async with MockOpenAIServer(script=lambda p, n, b: "html") as srv:
        with pytest.raises(TransientModelError, match="invalid JSON"):
            await _generate(_model(srv), "x")


async def test_hang_becomes_transient_after_timeout() -> None:
    async with MockOpenAIServer(hang_rate=1.0) as srv:
        started = time.perf_counter()
        with pytest.raises(TransientModelError, match="timeout"):
            await _generate(_model(srv, timeout_s=0.3), "x")
        assert time.perf_counter() - started < 5


async def test_connection_refused_is_transient() -> None:
    async with MockOpenAIServer() as srv:
        url = srv.base_url
    with pytest.raises(TransientModelError, match="connection"):
        await _generate(from_compatible_spec(f"m@{url}", TargetOptions()), "x")


async def test_401_is_final_and_never_shows_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PROVIDER_KEY", SECRET)
    async with MockOpenAIServer(api_key="the-right-key") as srv:
        model = _model(srv, api_key_env="MY_PROVIDER_KEY")
        with pytest.raises(ModelError) as info:
            await _generate(model, "x")
        # the server did receive the key, and echoed it back in its error message
        assert srv.requests[-1].authorization == f"Bearer {SECRET}"
    message = str(info.value)
    assert "401" in message and "Incorrect API key" in message
    assert SECRET not in message and "0123456789abcdef" not in message
    assert not isinstance(info.value, TransientModelError)


async def test_404_unknown_model_is_final() -> None:
    async with MockOpenAIServer(models=["real-model"]) as srv:
        with pytest.raises(ModelError, match=r"404.*does not exist"):
            await _generate(_model(srv), "x")


async def test_400_is_final() -> None:
    async with MockOpenAIServer(fail_first=1, fail_with=422) as srv:
        with pytest.raises(ModelError, match="422"):
            await _generate(_model(srv), "x")


# --- keys, ids, specs ---------------------------------------------------------------------------------------


async def test_openai_key_from_env_is_sent_but_never_described(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    async with MockOpenAIServer(api_key=SECRET) as srv:
        model = from_openai_spec("gpt-test", TargetOptions(base_url=srv.base_url))
        out = await _generate(model, "hi")
        assert out.text == "echo: hi"
        assert srv.requests[-1].authorization == f"Bearer {SECRET}"
        # OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens)
        assert srv.requests[-1].body["max_completion_tokens"] == 256
    assert model.id == f"openai:gpt-test@127.0.0.1:{srv.port}"
    for shown in (model.id, repr(model), str(model.describe())):
        assert SECRET not in shown
    assert model.describe()["api_key_env"] == "OPENAI_API_KEY"


async def test_compatible_key_falls_back_to_seval_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEVAL_API_KEY", SECRET)
    async with MockOpenAIServer() as srv:
        await _generate(_model(srv), "x")
        assert srv.requests[-1].authorization == f"Bearer {SECRET}"


async def test_compatible_without_key_sends_no_authorization(openai_mock_server: MockOpenAIServer) -> None:
    await _generate(_model(openai_mock_server), "x")
    assert openai_mock_server.requests[-1].authorization is None


def test_missing_required_keys_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        from_openai_spec("gpt-4o-mini", TargetOptions())
    with pytest.raises(ConfigError, match="DASHSCOPE_API_KEY"):
        from_dashscope_spec("qwen-plus", TargetOptions())
    with pytest.raises(ConfigError, match="MY_KEY"):
        from_compatible_spec("m@http://127.0.0.1:1/v1", TargetOptions(api_key_env="MY_KEY"))


def test_spec_parsing_and_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    m = from_compatible_spec("Qwen/Qwen2.5-7B@http://127.0.0.1:8000/v1/", TargetOptions())
    assert m.id == "openai-compatible:Qwen/Qwen2.5-7B@127.0.0.1:8000"
    assert m.describe()["base_url"] == "http://127.0.0.1:8000/v1"
    assert m.max_concurrency == 32
    m = from_compatible_spec("m", TargetOptions(base_url="http://h:9/v1/chat/completions", max_concurrency=7))
    assert m.describe()["base_url"] == "http://h:9/v1"
    assert m.max_concurrency == 7
    assert from_ollama_spec("llama3", TargetOptions()).id == "ollama:llama3@127.0.0.1:11434"
    monkeypatch.setenv("DASHSCOPE_API_KEY", SECRET)
    d = from_dashscope_spec("qwen-plus", TargetOptions())
    assert d.id == "dashscope:qwen-plus@dashscope.aliyuncs.com"
    assert SECRET not in str(d.describe())
    with pytest.raises(ConfigError, match="no base URL"):
        from_compatible_spec("m", TargetOptions())
    with pytest.raises(ConfigError, match="one place"):
        from_compatible_spec("m@http://a:1/v1", TargetOptions(base_url="http://b:2/v1"))
    with pytest.raises(ConfigError, match="credentials"):
        from_compatible_spec("m@http://user:pw@a:1/v1", TargetOptions())
    with pytest.raises(ConfigError, match="http"):
        from_compatible_spec("m", TargetOptions(base_url="ftp://a/v1"))


async def test_resolved_through_the_registry(openai_mock_server: MockOpenAIServer) -> None:
    for provider in ("openai-compatible", "vllm", "sglang"):
        model = load_model(f"{provider}:mock-model@{openai_mock_server.base_url}")
        assert isinstance(model, OpenAICompatModel)
        assert (await _generate(model, "reg")).text == "echo: reg"  # type: ignore[arg-type]


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = email.utils.formatdate(1_000_010, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000) == pytest.approx(10)
    assert parse_retry_after({"retry-after": date}, now=2_000_000) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


# --- concurrency, streaming, sessions ---------------------------------------------------------------------


async def test_many_concurrent_requests_share_one_pool() -> None:
    async with MockOpenAIServer(latency=0.02) as srv:
        model = _model(srv, max_concurrency=8)
        try:
            outs = await asyncio.gather(
                *(model.generate(build_messages(f"p{i}", CFG), CFG) for i in range(200))
            )
        finally:
            await model.aclose()
    assert [o.text for o in outs] == [f"echo: p{i}" for i in range(200)]
    assert srv.status_counts["200"] == 200


async def test_stream_yields_the_full_text(openai_mock_server: MockOpenAIServer) -> None:
    model = _model(openai_mock_server)
    try:
        msgs = build_messages("a rather long prompt to stream [reasoning]", CFG)
        chunks = [c async for c in model.stream(msgs, CFG)]
    finally:
        await model.aclose()
    assert len(chunks) > 3
    assert "".join(chunks) == "echo: " + "a rather long prompt to stream [reasoning]"[:40]
    assert openai_mock_server.requests[-1].body["stream"] is True


@pytest.mark.parametrize("fault", ["drop", "truncate", "invalid_json", "500", "429"])
async def test_stream_faults_are_transient(fault: str) -> None:
    async with MockOpenAIServer(script=lambda p, n, b: fault) as srv:
        model = _model(srv)
        try:
            with pytest.raises(TransientModelError):
                async for _ in model.stream(build_messages("x", CFG), CFG):
                    pass
        finally:
            await model.aclose()


@contextlib.asynccontextmanager
async def _raw_server(payload: bytes, content_type: str) -> AsyncIterator[str]:
    """A server that answers every chat request with exactly `payload` (for odd stream endings)."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=payload, content_type=content_type)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def _sse(*events: dict[str, Any] | str) -> bytes:
    return b"".join(
        b"data: " + (e.encode() if isinstance(e, str) else orjson.dumps(e)) + b"\n\n" for e in events
    )


def _delta(content: str, finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}


@pytest.mark.parametrize(
    ("payload", "content_type", "expected"),
    [
        (_sse(_delta("Hel"), _delta("lo"), _delta("", "stop")), "text/event-stream", "Hello"),  # no [DONE]
        (b": keep-alive\n\n" + _sse(_delta("ok"), "[DONE]"), "text/event-stream", "ok"),
        (
            orjson.dumps({"choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}]}),
            "application/json",
            "whole",
        ),
    ],
)
async def test_stream_tolerates_real_server_variants(
    payload: bytes, content_type: str, expected: str
) -> None:
    async with _raw_server(payload, content_type) as url:
        model = from_compatible_spec(f"m@{url}", TargetOptions())
        try:
            text = "".join([c async for c in model.stream(build_messages("x", CFG), CFG)])
        finally:
            await model.aclose()
    assert text == expected


@pytest.mark.parametrize(
    "payload",
    [
        _sse(_delta("Hel"), _delta("lo")),  # cut off: neither finish_reason nor [DONE]
        _sse(_delta("Hel"), {"error": {"message": "upstream overloaded"}}),
    ],
)
async def test_stream_cut_off_or_error_event_is_transient(payload: bytes) -> None:
    async with _raw_server(payload, "text/event-stream") as url:
        model = from_compatible_spec(f"m@{url}", TargetOptions())
        try:
            with pytest.raises(TransientModelError):
                async for _ in model.stream(build_messages("x", CFG), CFG):
                    pass
        finally:
            await model.aclose()


async def test_complete_text_legacy_endpoint(openai_mock_server: MockOpenAIServer) -> None:
    model = _model(openai_mock_server)
    try:
        out = await model.complete_text("Once upon a time", GenerationConfig(max_tokens=9))
    finally:
        await model.aclose()
    assert out.text == "echo: Once upon a time"
    assert openai_mock_server.requests[-1].body["max_tokens"] == 9


def test_model_survives_being_used_from_two_event_loops() -> None:
    async def ask(model: OpenAICompatModel) -> str:
        try:
            return (await model.generate(build_messages("loop", CFG), CFG)).text
        finally:
            await model.aclose()

    with MockOpenAIServer() as srv:
        model = _model(srv)
        assert asyncio.run(ask(model)) == "echo: loop"
        assert asyncio.run(ask(model)) == "echo: loop"  # a fresh pool in the new loop


# --- the mock speaks the real protocol: the official SDK against it ----------------------------------


def test_openai_sdk_plain_and_streaming() -> None:
    openai = pytest.importorskip("openai")
    with MockOpenAIServer(api_key=SECRET) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key=SECRET, max_retries=0)
        resp = client.chat.completions.create(
            model="mock-model",
            messages=[{"role": "user", "content": "from the sdk"}],
            temperature=0,
            logprobs=True,
            top_logprobs=2,
        )
        assert resp.choices[0].message.content == "echo: from the sdk"
        assert resp.usage is not None and resp.usage.completion_tokens == 4
        assert resp.choices[0].logprobs is not None
        assert len(resp.choices[0].logprobs.content[0].top_logprobs) == 2
        stream = client.chat.completions.create(
            model="mock-model",
            messages=[{"role": "user", "content": "streamed from the sdk"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text, usage = "", None
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            usage = chunk.usage or usage
        assert text == "echo: streamed from the sdk"
        assert usage is not None and usage.completion_tokens == 5
        models = client.models.list()
        assert [m.id for m in models.data] == ["mock-model"]
        client.close()


async def test_openai_async_sdk_sees_rate_limits() -> None:
    openai = pytest.importorskip("openai")
    async with MockOpenAIServer(rate_limit_rate=1.0, retry_after=1) as srv:
        client = openai.AsyncOpenAI(base_url=srv.base_url, api_key="k", max_retries=0)
        with pytest.raises(openai.RateLimitError):
            await client.chat.completions.create(
                model="mock-model", messages=[{"role": "user", "content": "x"}]
            )
        await client.close()
