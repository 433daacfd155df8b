"""A local OpenAI-compatible server that misbehaves on purpose.

Tests use it to prove that adapters and the engine survive what real endpoints do (429 with
Retry-After, 5xx, hangs, dropped connections, broken JSON); benchmarks use it as a cheap, fast target,
so the hot path avoids anything slow: orjson, no access log, no per-request UUIDs.

    async with MockOpenAIServer(latency=0.2, error_rate=0.02) as srv:
        model = load_model(f"openai-compatible:mock@{srv.base_url}")

    with MockOpenAIServer(fail_first=2) as srv:       # sync tests: runs in a background thread
        ...

    python -m seval.testing.mock_server --port 8000 --latency 0.2 --error-rate 0.02

It only ever binds 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import random
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

HOST = "127.0.0.1"
REFUSAL_MARKER = "[refuse]"
THINK_MARKER = "[think]"
REASONING_MARKER = "[reasoning]"
REFUSAL_TEXT = "I'm sorry, but I can't help with that."
REFUSAL_TEXT_ZH = "抱歉，我无法提供这方面的帮助。"

# Fault kinds, in the order a random draw is mapped onto them.
# "error_200" (a 200 whose JSON is an error envelope, as some proxies send) is only for scripts.
FAULTS = ("429", "500", "503", "hang", "drop", "truncate", "invalid_json", "html", "error_200")

_JSON = "application/json"
_ERROR_BODIES = {
    500: orjson.dumps({"error": {"message": "mock: internal error", "type": "server_error"}}),
    503: orjson.dumps({"error": {"message": "mock: overloaded, try again", "type": "server_error"}}),
    429: orjson.dumps(
        {"error": {"message": "mock: rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
    ),
}
_INVALID_JSON = b'{"id": "chatcmpl-mock", "object": "chat.completion", "choices": [{"index": 0, "mess'
_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>"
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


@dataclass(frozen=True)
class RecordedRequest:
    """What a test may want to assert about one request the server received."""

    path: str
    prompt: str
    body: dict[str, Any]
    authorization: str | None
    outcome: str


# A script sees (prompt, how many times this prompt was requested including this one, body) and
# returns a fault kind from FAULTS, an HTTP status as int, or None for a normal answer.
Script = Callable[[str, int, dict[str, Any]], "str | int | None"]
Responder = Callable[[str, dict[str, Any]], "str | dict[str, Any]"]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _text(content: Any) -> str:
    """Message content as text, also when it comes as a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return ""


def default_answer(prompt: str) -> str:
    """Deterministic text derived from the prompt, so tests can predict it."""
    if REFUSAL_MARKER in prompt:
        return REFUSAL_TEXT_ZH if _has_cjk(prompt) else REFUSAL_TEXT
    return "echo: " + prompt[:40]


class MockOpenAIServer:
    """An aiohttp.web server speaking the OpenAI chat-completions protocol, with fault injection."""

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        jitter: float = 0.0,
        error_rate: float = 0.0,
        rate_limit_rate: float = 0.0,
        server_error_rate: float = 0.0,
        hang_rate: float = 0.0,
        drop_rate: float = 0.0,
        truncate_rate: float = 0.0,
        invalid_json_rate: float = 0.0,
        html_rate: float = 0.0,
        retry_after: float = 1.0,
        retry_after_style: str = "seconds",
        fail_first: int = 0,
        fail_with: str | int = "500",
        script: Script | None = None,
        responder: Responder | None = None,
        api_key: str | None = None,
        models: tuple[str, ...] | list[str] | None = None,
        hang_s: float = 3600.0,
        seed: int = 0,
        record_limit: int = 1000,
    ) -> None:
        """
        error_rate spreads evenly over 429, 500 and 503; the *_rate arguments add specific faults.
        `fail_first=N` fails the first N requests of every distinct prompt with `fail_with`, which
        makes retry tests deterministic. `api_key` makes the server answer 401 to any other key (and
        echo the wrong key back in the message, as some providers do, so redaction can be tested);
        `models` makes it answer 404 to unknown model names.
        """
        if retry_after_style not in ("seconds", "http-date", "ms", "none"):
            raise ValueError(
                f"retry_after_style must be seconds, http-date, ms or none, not {retry_after_style}"
            )
        rates = {
            "429": rate_limit_rate + error_rate / 3,
            "500": server_error_rate / 2 + error_rate / 3,
            "503": server_error_rate / 2 + error_rate / 3,
            "hang": hang_rate,
            "drop": drop_rate,
            "truncate": truncate_rate,
            "invalid_json": invalid_json_rate,
            "html": html_rate,
        }
        if any(r < 0 for r in rates.values()) or sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError("fault rates must be non-negative and sum to at most 1")
        self._cumulative: list[tuple[float, str]] = []
        acc = 0.0
        for kind in FAULTS:
            if rates.get(kind, 0.0) > 0:
                acc += rates[kind]
                self._cumulative.append((acc, kind))
        self._fault_total = acc
        self.port = port
        self.latency = latency
        self.jitter = jitter
        self.retry_after = retry_after
        self.retry_after_style = retry_after_style
        self.fail_first = fail_first
        self.fail_with = fail_with
        self.script = script
        self.responder = responder
        self.api_key = api_key
        self.models = tuple(models) if models else None
        self.hang_s = hang_s
        self._rng = random.Random(seed)
        # What tests assert on.
        self.status_counts: Counter[str] = Counter()
        self.prompt_counts: Counter[str] = Counter()
        self.requests: deque[RecordedRequest] = deque(maxlen=record_limit)
        self.total_requests = 0
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread_stop: asyncio.Event | None = None

    # --- lifecycle ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(
            self.make_app(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=0.5,
            # Frees a hanging handler as soon as its client gives up.
            handler_cancellation=True,
        )
        await runner.setup()
        site = web.TCPSite(runner, HOST, self.port, backlog=1024)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> MockOpenAIServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def run_in_thread(self) -> MockOpenAIServer:
        """Serve from a background thread with its own loop (for sync tests and SDK clients)."""
        if self._thread is not None:
            raise RuntimeError("the mock server is already running in a thread")
        ready = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._thread_loop = asyncio.get_running_loop()
            self._thread_stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                await self._thread_stop.wait()
            finally:
                await self.stop()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="mock-openai", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("the mock server thread did not start within 30 s")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop_thread(self) -> None:
        thread, loop, stop = self._thread, self._thread_loop, self._thread_stop
        if thread is None or loop is None or stop is None:
            return
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        self._thread = self._thread_loop = self._thread_stop = None

    def __enter__(self) -> MockOpenAIServer:
        return self.run_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop_thread()

    def reset_counts(self) -> None:
        self.status_counts.clear()
        self.prompt_counts.clear()
        self.requests.clear()
        self.total_requests = 0

    # --- decisions ----------------------------------------------------------------------------------

    def _choose_fault(self, prompt: str, nth: int, body: dict[str, Any]) -> str | int | None:
        if self.script is not None:
            scripted = self.script(prompt, nth, body)
            if scripted is not None:
                return scripted
        if nth <= self.fail_first:
            return self.fail_with
        if self._fault_total > 0:
            r = self._rng.random()
            if r < self._fault_total:
                for edge, kind in self._cumulative:
                    if r < edge:
                        return kind
        return None

    async def _delay(self) -> None:
        delay = self.latency
        if self.jitter:
            delay = max(0.0, delay + self._rng.uniform(-self.jitter, self.jitter))
        if delay > 0:
            await asyncio.sleep(delay)

    def _retry_after_headers(self) -> dict[str, str]:
        style = self.retry_after_style
        if style == "seconds":
            return {"Retry-After": f"{self.retry_after:g}"}
        if style == "ms":
            return {"retry-after-ms": f"{self.retry_after * 1000:.0f}"}
        if style == "http-date":
            return {"Retry-After": email.utils.formatdate(time.time() + self.retry_after, usegmt=True)}
        return {}

    def _record(self, request: web.Request, prompt: str, body: dict[str, Any], outcome: str) -> None:
        self.status_counts[outcome] += 1
        self.requests.append(
            RecordedRequest(request.path, prompt, body, request.headers.get("Authorization"), outcome)
        )

    # --- handlers -----------------------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type=_JSON)

    async def _models(self, request: web.Request) -> web.Response:
        names = self.models or ("mock-model",)
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "seval-mock"} for n in names]
        return web.Response(body=orjson.dumps({"object": "list", "data": data}), content_type=_JSON)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, chat=True)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, chat=False)

    async def _handle(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        self.total_requests += 1
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return self._error(request, 400, "mock: the request body is not valid JSON", "", {})
        if not isinstance(body, dict):
            return self._error(request, 400, "mock: the request body must be an object", "", {})
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                return self._error(request, 400, "mock: 'messages' must be a non-empty list", "", body)
            prompt = next(
                (
                    _text(m.get("content"))
                    for m in reversed(messages)
                    if isinstance(m, dict) and m.get("role") == "user"
                ),
                "",
            )
        else:
            raw_prompt = body.get("prompt")
            if not isinstance(raw_prompt, str):
                return self._error(request, 400, "mock: 'prompt' must be a string", "", body)
            prompt = raw_prompt
        if self.api_key is not None:
            auth = request.headers.get("Authorization", "")
            if auth != f"Bearer {self.api_key}":
                given = auth.removeprefix("Bearer ") or "(none)"
                return self._error(
                    request, 401, f"Incorrect API key provided: {given}.", prompt, body, "invalid_api_key"
                )
        model = body.get("model")
        if self.models is not None and model not in self.models:
            return self._error(
                request, 404, f"The model `{model}` does not exist", prompt, body, "model_not_found"
            )
        self.prompt_counts[prompt] += 1
        fault = self._choose_fault(prompt, self.prompt_counts[prompt], body)
        stream = bool(body.get("stream"))
        if fault is None:
            await self._delay()
            self._record(request, prompt, body, "200")
            if stream:
                return await self._stream_answer(request, prompt, body, chat)
            return web.Response(body=self._answer_bytes(prompt, body, chat), content_type=_JSON)
        return await self._fault(request, str(fault), prompt, body, chat, stream)

    def _error(
        self,
        request: web.Request,
        status: int,
        message: str,
        prompt: str,
        body: dict[str, Any],
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        self._record(request, prompt, body, str(status))
        payload = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        return web.Response(status=status, body=orjson.dumps(payload), content_type=_JSON, headers=headers)

    async def _fault(
        self, request: web.Request, kind: str, prompt: str, body: dict[str, Any], chat: bool, stream: bool
    ) -> web.StreamResponse:
        if kind == "hang":
            self._record(request, prompt, body, "hang")
            await asyncio.sleep(self.hang_s)
            return web.Response(status=504, body=b"{}", content_type=_JSON)
        await self._delay()
        if kind == "drop":
            # Close the socket before any byte of the answer: the client sees a disconnect.
            self._record(request, prompt, body, "drop")
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if kind == "truncate":
            # Promise a full body, send half of it, then close: the client sees a payload error.
            self._record(request, prompt, body, "truncate")
            full = self._answer_bytes(prompt, body, chat)
            resp = web.StreamResponse(status=200, headers={"Content-Type": _JSON})
            resp.content_length = len(full)
            await resp.prepare(request)
            await resp.write(full[: len(full) // 2])
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if kind == "invalid_json":
            self._record(request, prompt, body, "invalid_json")
            if stream:
                resp = web.StreamResponse(status=200, headers=_SSE_HEADERS)
                await resp.prepare(request)
                await resp.write(b"data: " + _INVALID_JSON + b"\n\n")
                await resp.write_eof()
                return resp
            return web.Response(body=_INVALID_JSON, content_type=_JSON)
        if kind == "error_200":
            self._record(request, prompt, body, "error_200")
            return web.Response(body=b'{"error": {"message": "mock: upstream failed"}}', content_type=_JSON)
        if kind == "html":
            self._record(request, prompt, body, "html")
            return web.Response(body=_HTML, content_type="text/html")
        try:
            status = int(kind)
        except ValueError:
            raise ValueError(f"unknown mock fault kind {kind!r} (known: {', '.join(FAULTS)})") from None
        self._record(request, prompt, body, str(status))
        headers = self._retry_after_headers() if status in (429, 503) else None
        err = _ERROR_BODIES.get(status)
        if err is None:
            err = orjson.dumps({"error": {"message": f"mock: scripted status {status}", "type": "mock"}})
        return web.Response(status=status, body=err, content_type=_JSON, headers=headers)

    # --- answers ------------------------------------------------------------------------------------

    def _message(self, prompt: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.responder is not None:
            answer = self.responder(prompt, body)
            return {"role": "assistant", "content": answer} if isinstance(answer, str) else answer
        text = default_answer(prompt)
        if THINK_MARKER in prompt:
            return {"role": "assistant", "content": f"<think>mock thoughts about {prompt[:20]}</think>{text}"}
        if REASONING_MARKER in prompt:
            return {
                "role": "assistant",
                "content": text,
                "reasoning_content": f"mock reasoning: {prompt[:20]}",
            }
        return {"role": "assistant", "content": text}

    def _next_id(self) -> str:
        self._seq += 1
        return f"chatcmpl-mock-{self._seq}"

    @staticmethod
    def _usage(body: dict[str, Any], completion: str) -> dict[str, int]:
        if "messages" in body:
            prompt_tokens = sum(
                len(_text(m.get("content")).split()) + 3 for m in body["messages"] if isinstance(m, dict)
            )
        else:
            prompt_tokens = len(str(body.get("prompt", "")).split())
        completion_tokens = max(1, len(completion.split()))
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    @staticmethod
    def _logprobs(text: str, top_n: int) -> dict[str, Any]:
        content = []
        for i, tok in enumerate(text.split()[:10]):
            lp = -0.1 * (i + 1)
            alts = [{"token": tok, "logprob": lp, "bytes": None}]
            alts += [{"token": f"alt{j}", "logprob": lp - j, "bytes": None} for j in range(1, max(1, top_n))]
            content.append(
                {"token": tok, "logprob": lp, "bytes": None, "top_logprobs": alts[: max(0, top_n)]}
            )
        return {"content": content}

    def _answer_bytes(self, prompt: str, body: dict[str, Any], chat: bool) -> bytes:
        model = body.get("model") or "mock-model"
        message = self._message(prompt, body)
        content = str(message.get("content") or "")
        if not chat:
            choice: dict[str, Any] = {"index": 0, "text": content, "logprobs": None, "finish_reason": "stop"}
            obj = "text_completion"
        else:
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
            if body.get("logprobs"):
                choice["logprobs"] = self._logprobs(content, int(body.get("top_logprobs") or 0))
            obj = "chat.completion"
        return orjson.dumps(
            {
                "id": self._next_id(),
                "object": obj,
                "created": int(time.time()),
                "model": model,
                "choices": [choice],
                "usage": self._usage(body, content),
            }
        )

    async def _stream_answer(
        self, request: web.Request, prompt: str, body: dict[str, Any], chat: bool
    ) -> web.StreamResponse:
        message = self._message(prompt, body)
        content = str(message.get("content") or "")
        cid, created, model = self._next_id(), int(time.time()), body.get("model") or "mock-model"
        resp = web.StreamResponse(status=200, headers=_SSE_HEADERS)
        await resp.prepare(request)

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            return b"data: " + orjson.dumps(chunk) + b"\n\n"

        # Several small writes, so clients really have to reassemble events across reads.
        await resp.write(event({"role": "assistant", "content": ""}))
        if message.get("reasoning_content"):
            await resp.write(event({"reasoning_content": message["reasoning_content"]}))
        pieces = [content[i : i + 7] for i in range(0, len(content), 7)]
        for piece in pieces:
            await resp.write(event({"content": piece}))
        await resp.write(event({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": self._usage(body, content),
            }
            await resp.write(b"data: " + orjson.dumps(usage) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m seval.testing.mock_server",
        description="A local OpenAI-compatible mock server with fault injection (binds 127.0.0.1 only).",
    )
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    p.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    p.add_argument("--jitter", type=float, default=0.0, help="uniform +- seconds added to the latency")
    p.add_argument("--error-rate", type=float, default=0.0, help="share of 429/500/503 answers")
    p.add_argument("--rate-limit-rate", type=float, default=0.0)
    p.add_argument("--server-error-rate", type=float, default=0.0)
    p.add_argument("--hang-rate", type=float, default=0.0)
    p.add_argument("--drop-rate", type=float, default=0.0)
    p.add_argument("--truncate-rate", type=float, default=0.0)
    p.add_argument("--invalid-json-rate", type=float, default=0.0)
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument("--fail-first", type=int, default=0, help="fail the first N requests of each prompt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", action="append", help="accepted model names (default: any)")
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    server = MockOpenAIServer(
        port=args.port,
        latency=args.latency,
        jitter=args.jitter,
        error_rate=args.error_rate,
        rate_limit_rate=args.rate_limit_rate,
        server_error_rate=args.server_error_rate,
        hang_rate=args.hang_rate,
        drop_rate=args.drop_rate,
        truncate_rate=args.truncate_rate,
        invalid_json_rate=args.invalid_json_rate,
        retry_after=args.retry_after,
        fail_first=args.fail_first,
        seed=args.seed,
        models=args.model,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        # Benchmarks wait for this line (and read the port from it when --port 0).
        print(f"mock OpenAI server listening on {server.base_url}", flush=True)
        await stop.wait()
    counts = ", ".join(f"{k}={v}" for k, v in sorted(server.status_counts.items()))
    print(f"mock OpenAI server stopped after {server.total_requests} requests ({counts})", flush=True)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
