"""`seval defend serve`: an OpenAI-compatible proxy that applies a defense in front of any model.

Teams deploy what they evaluated: the same `Defense` object that a run measured with `DefendedModel`
stands between their clients and their OpenAI-compatible server (vLLM, llama.cpp, Ollama, a gateway),
without touching the model's weights.

    POST /v1/chat/completions   prepare -> upstream -> (review) -> client; streaming included
    ANY  /v1/*                  passed through unchanged (models, embeddings, ...)
    GET  /healthz               {"ok": true, "defense": ID, "upstream": URL}

Design choices, and why:
- aiohttp on both sides with one pooled `ClientSession` (the house HTTP stack, BRIEF.md section 5):
  the proxy must add milliseconds, not tens of them, so it parses the body once with orjson, rewrites
  only `messages`, and forwards the raw bytes when the defense changed nothing.
- Messages are rebuilt from the caller's own dicts wherever the defense kept them, so fields the
  defense does not model (tool calls, image parts, names) reach the upstream unchanged; only the
  messages the defense wrote are new.
- A defense that `streams` (system prompt) lets the upstream's SSE bytes through as they arrive. One
  that reviews answers (critique-and-revise) cannot: the proxy gets the whole answer, reviews it, and
  replays it as a well-formed SSE stream, so a streaming client still works, just without early tokens.
- Failure is closed: when the review itself fails, the client gets an error, never the unreviewed
  answer. An unreachable upstream is a 502 in OpenAI's error shape, not a traceback.
- Logs carry method, path, status, routed risks and milliseconds only: never message text, never keys
  (not even the query string, where some APIs put them).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeGuard

import aiohttp
import orjson
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import ValidationError
from yarl import URL

from seval import defaults
from seval.defense.base import Defense, Prepared
from seval.errors import SevalError
from seval.models.base import split_reasoning
from seval.models.openai_compat import normalise_base_url
from seval.records import GenerationConfig, Message, ModelOutput, Role

# --- defaults of the proxy (kept here: only the proxy uses them) -----------------------------------------

# Largest request body accepted (long contexts with inline images are big; aiohttp's default is 1 MiB).
MAX_BODY_BYTES = 64 * 1024 * 1024
# Pooled upstream connections; a deployed proxy multiplexes many clients onto one upstream.
MAX_UPSTREAM_CONNECTIONS = 1024
# Idle pooled connections are dropped before common servers drop them (uvicorn, hence vLLM: 5 s), so the
# proxy never sends a request down a connection the upstream is closing (the client would get a 502).
UPSTREAM_KEEPALIVE_S = 4.0
# No total timeout (a long generation may stream for minutes); only silence between two reads ends it.
UPSTREAM_READ_TIMEOUT_S = 600.0
# On shutdown, how long in-flight requests may finish.
SHUTDOWN_TIMEOUT_S = 5.0

HEALTH_PATH = "/healthz"
CHAT_PATH = "/v1/chat/completions"
DEFENSE_HEADER = "x-seval-defense"
RISKS_HEADER = "x-seval-risks"
# Paths under /v1 passed through by default: none of them generates text around the defense.
GUARDLESS_PATHS = ("/models", "/embeddings", "/moderations")
REVISED_HEADER = "x-seval-revised"

_JSON = "application/json"
_SSE = "text/event-stream"
# Headers that describe one hop, or that aiohttp recomputes for the body it actually sends.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
        "accept-encoding",
        "date",
        "server",
    }
)
_SYSTEM_ROLES = ("system", "developer")
# OpenAI roles the defense does not route on (tool results, legacy functions): kept as non-user turns.
_ROLE_MAP: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
}

_RISKS: web.RequestKey[tuple[str, ...]] = web.RequestKey("seval_risks", tuple)
_CLIENT_LEFT: web.RequestKey[bool] = web.RequestKey("seval_client_left", bool)


class BadRequest(Exception):
    """A request the proxy cannot defend (answered 400, never forwarded)."""


class _NotACompletion(Exception):
    """The upstream answered 200 with something that is not a chat completion (nothing to review)."""


class _UpstreamFailed(Exception):
    """The upstream answered a call made during the review with an error: the client gets it as is."""

    def __init__(self, status: int, headers: CIMultiDictProxy[str], body: bytes) -> None:
        super().__init__(f"upstream status {status}")
        self.status, self.headers, self.body = status, headers, body


# --- helpers -----------------------------------------------------------------------------------------


def openai_error(status: int, message: str, kind: str, code: str | None = None) -> web.Response:
    """An error in OpenAI's shape, so SDK clients raise their usual exception with our message."""
    payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.Response(status=status, body=orjson.dumps(payload), content_type=_JSON)


def content_text(content: Any) -> str:
    """A message's text: a string, or OpenAI's list of parts with the text parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "")
            for p in content
            if isinstance(p, dict) and p.get("type", "text") == "text"
        )
    return ""


def to_messages(raw: Any) -> list[Message]:
    """The body's `messages` as `Message`s for the defense; raises `BadRequest` when malformed."""
    if not isinstance(raw, list) or not raw:
        raise BadRequest("'messages' must be a non-empty list of message objects")
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict):
            raise BadRequest(f"messages[{i}] must be an object")
        role = m.get("role")
        if not isinstance(role, str) or not role:
            raise BadRequest(f"messages[{i}] has no 'role'")
        out.append(Message(role=_ROLE_MAP.get(role, "assistant"), content=content_text(m.get("content"))))
    return out


def rebuild(
    original: list[dict[str, Any]], converted: list[Message], wanted: list[Message]
) -> list[dict[str, Any]]:
    """The wire messages for `wanted` (what the defense produced): every message the defense kept is
    the caller's own dict, in order (tool calls, image parts and names survive); messages it wrote are
    new plain dicts. Returns `original` itself when nothing changed, so the raw body can be forwarded."""
    if wanted == converted:
        return original
    system_role = "system"
    if any(m.get("role") == "developer" for m in original) and not any(
        m.get("role") == "system" for m in original
    ):
        system_role = "developer"  # the caller's API speaks `developer` (e.g. o-series models): keep it
    out: list[dict[str, Any]] = []
    j = 0
    for m in wanted:
        k = j
        while k < len(converted) and converted[k] != m:
            k += 1
        if k < len(converted):
            out.append(original[k])
            j = k + 1
        else:
            out.append({"role": system_role if m.role == "system" else m.role, "content": m.content})
    return out


def generation_config(body: Mapping[str, Any]) -> GenerationConfig:
    """The request's decoding parameters as a `GenerationConfig` (for the defense's information; the
    upstream always gets the caller's own fields). Values our record does not accept fall back to
    defaults rather than failing the request: the upstream is the judge of its own parameters."""
    fields: dict[str, Any] = {}
    for name in ("temperature", "top_p", "seed"):
        if body.get(name) is not None:
            fields[name] = body[name]
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None:
        fields["max_tokens"] = max_tokens
    stop = body.get("stop")
    if stop:
        fields["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
    try:
        return GenerationConfig(**fields)
    except (ValidationError, TypeError):
        return GenerationConfig()


def _output(data: Any, choice_index: int = 0) -> ModelOutput:
    """One choice of a completion JSON as a `ModelOutput` (text without inline reasoning)."""
    choice = data["choices"][choice_index]
    message = choice.get("message") or {}
    text = message.get("content")
    text = content_text(text) if text is not None else str(message.get("refusal") or "")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    text, reasoning = split_reasoning(text, reasoning if isinstance(reasoning, str) else None)
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    return ModelOutput(
        text=text,
        reasoning=reasoning,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        finish_reason=choice.get("finish_reason"),
    )


def _is_completion(data: Any) -> TypeGuard[dict[str, Any]]:
    return (
        isinstance(data, dict)
        and isinstance(data.get("choices"), list)
        and bool(data["choices"])
        and all(isinstance(c, dict) and isinstance(c.get("message"), dict) for c in data["choices"])
    )


def _completion(payload: bytes) -> dict[str, Any] | None:
    """The upstream's 200 body as a chat completion, or None when it is not one."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return data if _is_completion(data) else None


def _not_a_completion() -> web.Response:
    # An error envelope in a 200, a gateway's HTML page: nothing to review, and what may be an
    # unreviewed answer is never passed on.
    return openai_error(
        502, "the upstream's answer is not a chat completion", "upstream_error", "bad_upstream_answer"
    )


def _sse(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def completion_to_sse(data: dict[str, Any], include_usage: bool) -> bytes:
    """A finished chat completion replayed as the `chat.completion.chunk` events a streaming client
    expects (role, reasoning, content, tool calls, finish, optional usage, `[DONE]`)."""
    head = {"id": data.get("id", "chatcmpl-seval"), "object": "chat.completion.chunk"}
    head["created"] = data.get("created", int(time.time()))
    head["model"] = data.get("model", "")
    if data.get("system_fingerprint") is not None:
        head["system_fingerprint"] = data["system_fingerprint"]
    out = []

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> None:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        out.append(_sse({**head, "choices": [choice]}))

    for pos, choice in enumerate(data["choices"]):
        index = choice.get("index", pos)
        message = choice["message"]
        chunk(index, {"role": message.get("role", "assistant"), "content": ""})
        for field in ("reasoning_content", "reasoning"):
            if message.get(field):
                chunk(index, {field: message[field]})
        if message.get("content"):
            chunk(index, {"content": message["content"]})
        if message.get("refusal"):
            chunk(index, {"refusal": message["refusal"]})
        if isinstance(message.get("tool_calls"), list) and message["tool_calls"]:
            calls = [{"index": i, **c} for i, c in enumerate(message["tool_calls"]) if isinstance(c, dict)]
            chunk(index, {"tool_calls": calls})
        chunk(index, {}, choice.get("finish_reason") or "stop")
    if include_usage:
        out.append(_sse({**head, "choices": [], "usage": data.get("usage")}))
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def _add_usage(usage: Any, extra: dict[str, int]) -> dict[str, Any]:
    usage = dict(usage) if isinstance(usage, dict) else {}
    for name in ("prompt_tokens", "completion_tokens"):
        usage[name] = int(usage.get(name) or 0) + extra.get(name, 0)
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


def normalise_upstream(upstream: str) -> URL:
    """The upstream base URL, checked (http(s), no credentials in it: they would reach logs)."""
    return normalise_base_url(upstream)


# --- the proxy ---------------------------------------------------------------------------------------


class _Proxy:
    """The application's state and handlers: one upstream, one defense, one pooled session."""

    def __init__(
        self,
        upstream: URL,
        defense: Defense,
        api_key: str | None,
        model: str | None,
        log: bool,
        allow_unguarded: bool = False,
    ) -> None:
        self.allow_unguarded = allow_unguarded
        self.upstream = upstream
        self.base = str(upstream).rstrip("/")
        self.chat_url = URL(self.base + "/chat/completions", encoded=True)
        self.defense = defense
        self.api_key = api_key
        self.model = model
        self.log = log
        self.defense_header = {DEFENSE_HEADER: defense.id}
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the proxy's upstream session is not open (is the app running?)")
        return self._session

    async def session_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """One shared, pooled client session for the app's lifetime (created inside its loop)."""
        connector = aiohttp.TCPConnector(
            limit=MAX_UPSTREAM_CONNECTIONS,
            limit_per_host=0,
            ttl_dns_cache=300,
            keepalive_timeout=UPSTREAM_KEEPALIVE_S,
        )
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=defaults.CONNECT_TIMEOUT_S, sock_read=UPSTREAM_READ_TIMEOUT_S
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=timeout, raise_for_status=False, skip_auto_headers=("User-Agent",)
        )
        try:
            yield
        finally:
            session, self._session = self._session, None
            await session.close()

    async def warm_up(self, app: web.Application) -> None:
        """Route one prompt at start-up: the router's first call loads its vectoriser (most of a second),
        which would otherwise land on the first client's request."""
        self.defense.prepare([Message(role="user", content="warm-up")])
        await self.defense.warm()

    # --- plumbing ------------------------------------------------------------------------------------

    def upstream_headers(self, request: web.Request) -> CIMultiDict[str]:
        """The client's headers minus hop-by-hop ones; the upstream key replaces the client's when the
        proxy holds one."""
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in request.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                headers.add(name, value)
        if self.api_key is not None:
            headers.popall("Authorization", None)
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    @staticmethod
    def client_headers(upstream: Mapping[str, str], extra: Mapping[str, str]) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in upstream.items():
            if name.lower() not in _HOP_BY_HOP:
                headers.add(name, value)
        headers.update(extra)
        return headers

    def upstream_failure(self, exc: BaseException) -> web.Response:
        """The client's answer when the upstream could not be reached or broke off: OpenAI's error shape
        with the exception's type only (no traceback, nothing from the request)."""
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
            message, code, status = f"the upstream {self.base} is unreachable", "upstream_unreachable", 502
        elif isinstance(exc, TimeoutError):
            message, code, status = (
                f"the upstream {self.base} did not answer in time",
                "upstream_timeout",
                504,
            )
        else:
            message, code, status = f"the upstream {self.base} broke off its answer", "upstream_error", 502
        return openai_error(status, f"{message} ({type(exc).__name__})", code, code)

    async def post(self, body: bytes, headers: CIMultiDict[str]) -> tuple[int, CIMultiDictProxy[str], bytes]:
        async with self.session.post(self.chat_url, data=body, headers=headers) as up:
            return up.status, up.headers, await up.read()

    # --- middleware: one log line per request ---------------------------------------------------------

    @web.middleware
    async def access_log(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away first (nginx's convention)
            raise
        finally:
            if request.get(_CLIENT_LEFT):
                status = 499
            if self.log:
                ms = (time.perf_counter() - started) * 1000
                risks = ",".join(request.get(_RISKS, ())) or "-"
                sys.stderr.write(
                    f"seval-proxy {request.method} {request.path} {status} risks={risks} {ms:.1f}ms\n"
                )

    # --- handlers ------------------------------------------------------------------------------------

    async def health(self, request: web.Request) -> web.Response:
        payload = {"ok": True, "defense": self.defense.id, "upstream": self.base}
        return web.Response(body=orjson.dumps(payload), content_type=_JSON)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return openai_error(400, "the request body is not valid JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return openai_error(400, "the request body must be a JSON object", "invalid_request_error")
        try:
            messages = to_messages(body.get("messages"))
        except BadRequest as exc:
            return openai_error(400, str(exc), "invalid_request_error", "invalid_messages")
        original: list[dict[str, Any]] = body["messages"]  # checked by to_messages
        prepared = self.defense.prepare(messages)
        request[_RISKS] = prepared.risks
        wire = rebuild(original, messages, prepared.messages)
        extra = {**self.defense_header, RISKS_HEADER: ",".join(prepared.risks)}
        if self.model is not None:
            body["model"] = self.model
        headers = self.upstream_headers(request)
        headers["Content-Type"] = _JSON
        try:
            if not self.defense.streams:
                return await self.reviewed(request, body, original, messages, prepared, headers, extra)
            if wire is not original:
                body["messages"] = wire
            data = raw if wire is original and self.model is None else orjson.dumps(body)
            if body.get("stream"):
                return await self.piped(request, data, headers, extra)
            status, up_headers, payload = await self.post(data, headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return self.upstream_failure(exc)
        return web.Response(status=status, body=payload, headers=self.client_headers(up_headers, extra))

    async def piped(
        self, request: web.Request, data: bytes, headers: CIMultiDict[str], extra: dict[str, str]
    ) -> web.StreamResponse:
        """Stream the upstream's SSE bytes to the client as they arrive."""
        async with self.session.post(self.chat_url, data=data, headers=headers) as up:
            out_headers = self.client_headers(up.headers, extra)
            if up.status != 200 or not up.content_type.startswith(_SSE):
                return web.Response(status=up.status, body=await up.read(), headers=out_headers)
            return await self.relay(request, up, out_headers)

    async def relay(
        self, request: web.Request, up: aiohttp.ClientResponse, headers: CIMultiDict[str]
    ) -> web.StreamResponse:
        """Copy an upstream body to the client chunk by chunk. A client that leaves ends the copy (and
        drops the upstream connection, so the upstream can stop generating); an upstream that breaks
        mid-body aborts the client's connection, so the client sees an error instead of a short answer."""
        response = web.StreamResponse(status=up.status, headers=headers)
        await response.prepare(request)
        try:
            async for chunk in up.content.iter_any():
                await response.write(chunk)
        except ConnectionResetError:  # the client left (aiohttp's ClientConnectionResetError included)
            request[_CLIENT_LEFT] = True
            up.close()
            return response
        except (TimeoutError, aiohttp.ClientError):
            if request.transport is not None:
                request.transport.abort()
            return response
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def reviewed(
        self,
        request: web.Request,
        body: dict[str, Any],
        original: list[dict[str, Any]],
        messages: list[Message],
        prepared: Prepared,
        headers: CIMultiDict[str],
        extra: dict[str, str],
    ) -> web.StreamResponse:
        """A defense that may replace answers: get the whole answer, review each choice, reply (as JSON,
        or replayed as SSE when the client asked to stream)."""
        stream = bool(body.get("stream"))
        options = body.get("stream_options")
        include_usage = stream and isinstance(options, dict) and bool(options.get("include_usage"))
        base = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        wire = rebuild(original, messages, prepared.messages)
        status, up_headers, payload = await self.post(orjson.dumps({**base, "messages": wire}), headers)
        if status != 200:
            return web.Response(status=status, body=payload, headers=self.client_headers(up_headers, extra))
        data = _completion(payload)
        if data is None:
            return _not_a_completion()
        spent = {"prompt_tokens": 0, "completion_tokens": 0}
        config = generation_config(body)

        async def generate(msgs: list[Message], _config: GenerationConfig) -> ModelOutput:
            started = time.perf_counter()
            again = {**base, "messages": rebuild(original, messages, msgs)}
            if "n" in again:
                again["n"] = 1  # one revision per reviewed choice
            st, hd, pl = await self.post(orjson.dumps(again), headers)
            if st != 200:
                raise _UpstreamFailed(st, hd, pl)
            answer = _completion(pl)
            if answer is None:
                raise _NotACompletion
            usage = answer.get("usage")
            for name in spent:
                spent[name] += int(usage.get(name) or 0) if isinstance(usage, dict) else 0
            out = _output(answer)
            return out.model_copy(update={"latency_s": time.perf_counter() - started})

        async def review(pos: int) -> ModelOutput | None:
            first = _output(data, pos)
            after = await self.defense.review(prepared, first, generate, config)
            return None if after is first or after.text == first.text else after

        try:
            results = await asyncio.gather(*(review(i) for i in range(len(data["choices"]))))
        except _UpstreamFailed as exc:
            return web.Response(
                status=exc.status, body=exc.body, headers=self.client_headers(exc.headers, extra)
            )
        except _NotACompletion:
            return _not_a_completion()
        except (TimeoutError, aiohttp.ClientError):
            raise  # the caller answers 502 / 504
        except Exception as exc:  # fail closed: never hand out an answer the defense could not review
            if self.log:
                sys.stderr.write(f"seval-proxy: the defense's review failed ({type(exc).__name__})\n")
            return openai_error(
                500, f"the defense could not review the answer ({type(exc).__name__})", "defense_error"
            )
        revised = False
        for pos, after in enumerate(results):
            if after is None:
                continue
            revised = True
            choice = data["choices"][pos]
            message: dict[str, Any] = {"role": "assistant", "content": after.text}
            if after.reasoning:
                message["reasoning_content"] = after.reasoning
            choice["message"] = message  # the draft's reasoning and tool calls go with the draft
            choice["finish_reason"] = after.finish_reason or "stop"
            choice["logprobs"] = None
        if spent["prompt_tokens"] or spent["completion_tokens"]:
            data["usage"] = _add_usage(data.get("usage"), spent)
        extra = {**extra, REVISED_HEADER: "true" if revised else "false"}
        if stream:
            out_headers = self.client_headers(up_headers, extra)
            out_headers["Content-Type"] = _SSE
            out_headers["Cache-Control"] = "no-cache"
            return web.Response(status=200, body=completion_to_sse(data, include_usage), headers=out_headers)
        if not revised and not (spent["prompt_tokens"] or spent["completion_tokens"]):
            return web.Response(status=200, body=payload, headers=self.client_headers(up_headers, extra))
        return web.Response(
            status=200, body=orjson.dumps(data), headers=self.client_headers(up_headers, extra)
        )

    async def passthrough(self, request: web.Request) -> web.StreamResponse:
        """Other `/v1/*` calls go to the upstream as they are (method, query, body, status, type), but
        only those that cannot carry a generation around the defense (model lists, embeddings,
        moderation) unless the proxy was started with `allow_unguarded`: `/v1/completions` or
        `/v1/responses` would otherwise reach the model with no principles at all."""
        tail = request.raw_path[len("/v1") :]
        if not self.allow_unguarded and not tail.split("?")[0].startswith(GUARDLESS_PATHS):
            return web.json_response(
                {
                    "error": {
                        "message": f"seval defend: /v1{tail.split('?')[0]} would bypass the defense; only "
                        "/v1/chat/completions is defended (start with --allow-unguarded to pass it through)",
                        "type": "invalid_request_error",
                        "code": "unguarded_endpoint",
                    }
                },
                status=403,
                headers=self.defense_header,
            )
        url = URL(self.base + tail, encoded=True)
        body = await request.read() if request.can_read_body else None
        headers = self.upstream_headers(request)
        try:
            async with self.session.request(request.method, url, data=body, headers=headers) as up:
                out_headers = self.client_headers(up.headers, self.defense_header)
                if up.content_type.startswith(_SSE) or up.content_length is None:
                    return await self.relay(request, up, out_headers)
                return web.Response(status=up.status, body=await up.read(), headers=out_headers)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return self.upstream_failure(exc)


def create_app(
    upstream: str,
    defense: Defense,
    *,
    api_key: str | None = None,
    model: str | None = None,
    log: bool = True,
    allow_unguarded: bool = False,
) -> web.Application:
    """The proxy as an aiohttp application (run it with `serve`, or in-process with `start`).

    `upstream` is the upstream's base URL (e.g. `http://127.0.0.1:8000/v1`); `api_key`, when given,
    replaces the clients' `Authorization`; `model`, when given, replaces the body's `model` of chat
    calls (clients keep their own model names); `log=False` silences the per-request line."""
    proxy = _Proxy(normalise_upstream(upstream), defense, api_key, model, log, allow_unguarded)
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[proxy.access_log])
    app.cleanup_ctx.append(proxy.session_ctx)
    app.on_startup.append(proxy.warm_up)
    app.router.add_get(HEALTH_PATH, proxy.health)
    app.router.add_post(CHAT_PATH, proxy.chat)
    app.router.add_route("*", "/v1/{tail:.*}", proxy.passthrough)
    return app


async def start(
    app: web.Application, host: str = defaults.PROXY_HOST, port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve `app` on host:port (0 picks a free port) inside the running loop; returns the runner (call
    `cleanup()` to stop) and the proxy's base URL (`http://HOST:PORT/v1`, what clients use)."""
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        handler_cancellation=True,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise SevalError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    bound = runner.addresses[0]
    shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
    return runner, f"http://{shown}:{bound[1]}/v1"


def serve(
    upstream: str,
    defense: Defense,
    *,
    host: str = defaults.PROXY_HOST,
    port: int = defaults.PROXY_PORT,
    api_key: str | None = None,
    model: str | None = None,
    quiet: bool = False,
    allow_unguarded: bool = False,
) -> None:
    """Run the proxy until SIGINT/SIGTERM. One line to stderr says where it listens (tools and the
    benchmark read the URL from it)."""

    async def main() -> None:
        app = create_app(
            upstream, defense, api_key=api_key, model=model, log=not quiet, allow_unguarded=allow_unguarded
        )
        runner, url = await start(app, host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        sys.stderr.write(
            f"seval defend: {defense.id} listening on {url} -> upstream {upstream.rstrip('/')}\n"
        )
        sys.stderr.flush()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())
