"""OpenAI-compatible chat-completions client on bare aiohttp.

This is the engine's hot path: at 256+ requests in flight on a two-core machine the openai SDK spends
30-50x more CPU per request than the HTTP round trip itself (BRIEF section 5), so we speak the protocol
directly: one pooled session per model, prebuilt headers and URL, orjson both ways, and nothing else
allocated per request beyond the body dict and the output record.

The adapter never retries. Anything worth retrying (429, 408/409/5xx, timeouts, dropped connections,
a 200 whose body is not a chat completion) becomes `TransientModelError`; anything that will fail the
same way again (bad key, unknown model, malformed request) becomes `ModelError`.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
import orjson
from yarl import URL

from seval import __version__, defaults
from seval.errors import ConfigError, ModelError, TransientModelError
from seval.models.base import ChatModel, TargetOptions, split_reasoning
from seval.records import GenerationConfig, Message, ModelOutput

# How many alternatives per position, and for how many leading positions, we keep when logprobs are
# requested. Critics only look at the first few tokens ("safe"/"unsafe", a score digit).
TOP_LOGPROBS = 5
LOGPROB_POSITIONS = 5

# Idle keep-alive shorter than the 5 s default of uvicorn (vLLM, SGLang, most Python servers), so that
# we close an idle connection before the server does instead of racing it with a new POST.
KEEPALIVE_TIMEOUT_S = 4.0

# Statuses that say "try again later" rather than "this request is wrong".
_TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})
_SSE_ACCEPT = {"Accept": "text/event-stream"}
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_KEYLIKE_RE = re.compile(r"\b(sk-[A-Za-z0-9_\-*]{4,}|Bearer\s+\S+)")


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait according to `retry-after-ms` or `Retry-After` (delta seconds or HTTP-date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _server_message(body: bytes) -> str:
    """The human-readable error the server sent, whatever envelope it used."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _one_line(body.decode("utf-8", "replace")) or "(empty body)"
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            for key in ("message", "detail", "msg", "error"):
                val = err.get(key)
                if isinstance(val, str) and val:
                    return _one_line(val)
                if val is not None and key == "detail":
                    return _one_line(str(val))
        elif isinstance(err, str) and err:
            return _one_line(err)
    return _one_line(body.decode("utf-8", "replace"))


def _messages_payload(messages: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def _parse_top_logprobs(choice: dict[str, Any]) -> list[dict[str, float]] | None:
    """{token: logprob} for the first positions; None when absent or malformed (it is optional data)."""
    lp = choice.get("logprobs")
    if not isinstance(lp, dict):
        return None
    try:
        content = lp.get("content")
        if isinstance(content, list):  # chat-completions shape
            out: list[dict[str, float]] = []
            for pos in content[:LOGPROB_POSITIONS]:
                alts = pos.get("top_logprobs") or []
                entry = {a["token"]: float(a["logprob"]) for a in alts}
                if not entry:
                    entry = {pos["token"]: float(pos["logprob"])}
                out.append(entry)
            return out or None
        legacy = lp.get("top_logprobs")  # legacy /completions shape: a list of {token: logprob}
        if isinstance(legacy, list):
            return [{str(k): float(v) for k, v in d.items()} for d in legacy[:LOGPROB_POSITIONS] if d] or None
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return None


class OpenAICompatModel(ChatModel):
    """One model behind an OpenAI-compatible `/chat/completions` endpoint."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        base_url: str,
        options: TargetOptions,
        api_key: str | None = None,
        api_key_env: str | None = None,
        use_max_completion_tokens: bool = False,
    ) -> None:
        if not model:
            raise ConfigError(f"{provider}: the model name is empty")
        url = normalise_base_url(base_url)
        self.provider = provider
        self.model = model
        self.options = options
        self.max_concurrency = options.max_concurrency or defaults.MAX_CONCURRENCY_REMOTE
        self.timeout_s = options.timeout_s or defaults.REQUEST_TIMEOUT_S
        self._base_url = url
        self._chat_url = URL(str(url) + "/chat/completions")
        self._completions_url = URL(str(url) + "/completions")
        self._api_key = api_key
        self._api_key_env = api_key_env if api_key else None
        self._max_tokens_field = "max_completion_tokens" if use_max_completion_tokens else "max_tokens"
        host = url.host or ""
        netloc = f"{host}:{url.port}" if url.port and not url.is_default_port() else host
        self.id = f"{provider}:{model}@{netloc}"
        self._trust_env = host not in _LOOPBACK_HOSTS
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"seval/{__version__}",
        }
        headers.update(options.headers)
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._headers = headers
        self._extra = dict(options.extra_body)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- identity ---------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "base_url": str(self._base_url),
            "api_key_env": self._api_key_env,
            "max_concurrency": self.max_concurrency,
            "timeout_s": self.timeout_s,
            "logprobs": self.options.logprobs,
            "extra_body": self._extra,
        }

    def __repr__(self) -> str:
        return f"OpenAICompatModel(id={self.id!r})"

    # --- session ------------------------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        """The pooled session of the running loop, created on first use.

        A session is bound to the loop it was created in; a model reused from another loop (tests,
        a second `asyncio.run`) gets a fresh one and the old pool is dropped.
        """
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and self._loop is loop and not session.closed:
            return session
        if session is not None and not session.closed:
            session.detach()  # its loop is gone or different; drop it without awaiting
        connector = aiohttp.TCPConnector(
            limit=self.max_concurrency,
            limit_per_host=0,
            ttl_dns_cache=300,
            keepalive_timeout=KEEPALIVE_TIMEOUT_S,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            headers=self._headers,
            timeout=aiohttp.ClientTimeout(total=self.timeout_s, sock_connect=defaults.CONNECT_TIMEOUT_S),
            trust_env=self._trust_env,
            raise_for_status=False,
        )
        self._session, self._loop = session, loop
        return session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        if self._loop is asyncio.get_running_loop():
            await session.close()
        else:
            session.detach()

    # --- requests -----------------------------------------------------------------------------------

    def _body(self, messages: list[Message], config: GenerationConfig, stream: bool) -> bytes:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": _messages_payload(messages),
            "temperature": config.temperature,
            "top_p": config.top_p,
            self._max_tokens_field: config.max_tokens or defaults.MAX_TOKENS,
        }
        if config.seed is not None:
            body["seed"] = config.seed
        if config.stop:
            body["stop"] = list(config.stop)
        if self.options.logprobs and not stream:
            body["logprobs"] = True
            body["top_logprobs"] = TOP_LOGPROBS
        if stream:
            body["stream"] = True
        return self._finish_body(body)

    def _finish_body(self, body: dict[str, Any]) -> bytes:
        if self._extra:
            body.update(self._extra)
            # `extra_body: {temperature: null}` removes a field a server refuses (e.g. reasoning models).
            body = {k: v for k, v in body.items() if v is not None}
        return orjson.dumps(body)

    async def generate(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        started = time.perf_counter()
        status, headers, raw = await self._post(self._chat_url, self._body(messages, config, False))
        if status != 200:
            self._raise_for_status(status, headers, raw)
        data = self._decode(raw)
        try:
            choice = data["choices"][0]
            message = choice["message"]
            text = message.get("content")
            if text is None:
                text = message.get("refusal") or ""
            elif isinstance(text, list):  # content parts: [{"type": "text", "text": ...}, ...]
                text = "".join(p.get("text") or "" for p in text if isinstance(p, dict))
            reasoning = message.get("reasoning_content") or message.get("reasoning")
        except (KeyError, IndexError, TypeError, AttributeError):
            raise self._not_a_completion(data) from None
        if not isinstance(text, str):
            raise self._not_a_completion(data)
        text, reasoning = split_reasoning(text, reasoning if isinstance(reasoning, str) else None)
        usage = data.get("usage")
        if not isinstance(usage, dict):
            usage = {}
        return ModelOutput(
            text=text,
            reasoning=reasoning,
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
            latency_s=time.perf_counter() - started,
            top_logprobs=_parse_top_logprobs(choice) if self.options.logprobs else None,
        )

    async def complete_text(self, prompt: str, config: GenerationConfig) -> ModelOutput:
        """A legacy `/completions` call: raw text in, raw text out (base models behind vLLM)."""
        started = time.perf_counter()
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompt,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "max_tokens": config.max_tokens or defaults.MAX_TOKENS,
        }
        if config.seed is not None:
            body["seed"] = config.seed
        if config.stop:
            body["stop"] = list(config.stop)
        if self.options.logprobs:
            body["logprobs"] = TOP_LOGPROBS
        status, headers, raw = await self._post(self._completions_url, self._finish_body(body))
        if status != 200:
            self._raise_for_status(status, headers, raw)
        data = self._decode(raw)
        try:
            choice = data["choices"][0]
            text = choice["text"]
        except (KeyError, IndexError, TypeError):
            raise self._not_a_completion(data) from None
        usage = data.get("usage") or {}
        return ModelOutput(
            text=text if isinstance(text, str) else "",
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
            latency_s=time.perf_counter() - started,
            top_logprobs=_parse_top_logprobs(choice) if self.options.logprobs else None,
        )

    async def complete(self, prompt: str, config: GenerationConfig) -> ModelOutput:
        """CompletionModel: raw-text continuation through `/completions` (see `complete_text`)."""
        return await self.complete_text(prompt, config)

    async def stream(self, messages: list[Message], config: GenerationConfig) -> AsyncIterator[str]:
        """Yield content deltas of a streamed (SSE) completion as they arrive.

        A stream that breaks off before its end raises TransientModelError after the deltas already
        yielded; the caller decides whether to retry (and discard them).
        """
        session = self._get_session()
        body = self._body(messages, config, True)
        try:
            async with session.post(self._chat_url, data=body, headers=_SSE_ACCEPT) as resp:
                if resp.status != 200:
                    self._raise_for_status(resp.status, resp.headers, await resp.read())
                if resp.content_type == "application/json":
                    # The server ignored `stream: true` and answered in one piece.
                    data = self._decode(await resp.read())
                    try:
                        content = data["choices"][0]["message"].get("content") or ""
                    except (KeyError, IndexError, TypeError, AttributeError):
                        raise self._not_a_completion(data) from None
                    if content:
                        yield content
                    return
                done = finish_seen = False
                buffer = b""
                async for chunk in resp.content.iter_any():
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        delta, event = self._sse_line(line)
                        if delta:
                            yield delta
                        finish_seen = finish_seen or event == "finish"
                        done = done or event == "done"
                    if done:
                        break
                if not done and buffer:
                    delta, event = self._sse_line(buffer)
                    if delta:
                        yield delta
                    finish_seen = finish_seen or event == "finish"
                    done = event == "done"
                # A server that omits [DONE] has still sent everything once a finish_reason came.
                if not (done or finish_seen):
                    raise TransientModelError(f"{self.id}: the stream ended before its end ([DONE])")
        except (TransientModelError, ModelError):
            raise
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._network_error(exc) from None

    def _sse_line(self, line: bytes) -> tuple[str, str | None]:
        """(content delta, "done" | "finish" | None) for one line of the event stream."""
        line = line.strip()
        if not line.startswith(b"data:"):
            return "", None  # comments (":"), event names, blank separators
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return "", "done"
        if not payload:
            return "", None
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise TransientModelError(f"{self.id}: invalid JSON in the event stream") from None
        if not isinstance(data, dict):
            raise TransientModelError(f"{self.id}: unexpected event in the stream")
        if "error" in data:
            msg = self._redact(_server_message(payload))
            raise TransientModelError(f"{self.id}: error in the stream: {msg}")
        choices = data.get("choices") or []
        if not choices:
            return "", None  # e.g. a final usage-only chunk
        choice = choices[0]
        content = (choice.get("delta") or {}).get("content") or ""
        return (content if isinstance(content, str) else ""), (
            "finish" if choice.get("finish_reason") else None
        )

    async def _post(self, url: URL, body: bytes) -> tuple[int, Any, bytes]:
        session = self._get_session()
        try:
            async with session.post(url, data=body) as resp:
                return resp.status, resp.headers, await resp.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise self._network_error(exc) from None

    def _network_error(self, exc: BaseException) -> Exception:
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return TransientModelError(
                f"{self.id}: could not connect within {defaults.CONNECT_TIMEOUT_S:g}s (timeout)"
            )
        if isinstance(exc, TimeoutError):
            return TransientModelError(f"{self.id}: no answer within {self.timeout_s:g}s (timeout)")
        if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.InvalidURL):
            return ModelError(f"{self.id}: {type(exc).__name__}: {self._redact(str(exc))}")
        what = type(exc).__name__
        detail = self._redact(_one_line(str(exc), 200))
        return TransientModelError(f"{self.id}: connection problem ({what}: {detail})")

    def _decode(self, raw: bytes) -> dict[str, Any]:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            snippet = self._redact(_one_line(raw[:120].decode("utf-8", "replace"), 120))
            raise TransientModelError(f"{self.id}: the server sent invalid JSON: {snippet!r}") from None
        if not isinstance(data, dict):
            raise TransientModelError(f"{self.id}: the server sent JSON that is not an object")
        return data

    def _not_a_completion(self, data: dict[str, Any]) -> TransientModelError:
        if "error" in data:
            msg = self._redact(_server_message(orjson.dumps(data)))
            return TransientModelError(f"{self.id}: the server reported an error with status 200: {msg}")
        keys = ", ".join(sorted(map(str, data))[:8]) or "none"
        return TransientModelError(f"{self.id}: the answer is not a chat completion (keys: {keys})")

    def _raise_for_status(self, status: int, headers: Mapping[str, str], raw: bytes) -> None:
        msg = self._redact(_server_message(raw))
        if status == 429:
            raise TransientModelError(
                f"{self.id}: rate limited (429): {msg}",
                retry_after=parse_retry_after(headers),
                rate_limited=True,
            )
        if status in _TRANSIENT_STATUSES or status >= 500:
            raise TransientModelError(
                f"{self.id}: server error {status}: {msg}", retry_after=parse_retry_after(headers)
            )
        hint = {
            401: "check the API key",
            403: "the key lacks access to this model",
            404: "check the model name and base URL",
        }.get(status)
        raise ModelError(f"{self.id}: request rejected ({status}): {msg}", hint=hint)

    def _redact(self, text: str) -> str:
        """Servers sometimes echo the key (or part of it) in errors; never pass it on."""
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return _KEYLIKE_RE.sub("***", text)


# --- factories (entry points) -------------------------------------------------------------------------


def normalise_base_url(base_url: str) -> URL:
    raw = base_url.strip().rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        if raw.endswith(suffix):
            raw = raw[: -len(suffix)]
    url = URL(raw)
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            f"base URL '{url.with_user(None).with_password(None)}' is not an http(s) URL",
            hint="e.g. http://127.0.0.1:8000/v1",
        )
    # Credentials in the URL would end up in ids and logs; pass them as a header instead.
    if url.user or url.password:
        raise ConfigError(
            "base URL must not contain credentials", hint="put the key in an environment variable"
        )
    return url.with_query(None).with_fragment(None)


def _key_from_env(var: str, *, required: bool, provider: str) -> str | None:
    key = os.environ.get(var)
    if key:
        return key
    if required:
        raise ConfigError(
            f"{provider}: environment variable {var} is not set",
            hint=f"export {var}=... (the key is read from the environment and never stored)",
        )
    return None


def from_openai_spec(name: str, options: TargetOptions) -> OpenAICompatModel:
    """`openai:MODEL` against api.openai.com (or options.base_url, e.g. a gateway)."""
    var = options.api_key_env or "OPENAI_API_KEY"
    key = _key_from_env(var, required=True, provider="openai")
    return OpenAICompatModel(
        provider="openai",
        model=name,
        base_url=options.base_url or defaults.OPENAI_BASE_URL,
        options=options,
        api_key=key,
        api_key_env=var,
        # OpenAI's reasoning models reject `max_tokens`; every current OpenAI model accepts this.
        use_max_completion_tokens=True,
    )


def from_compatible_spec(name: str, options: TargetOptions) -> OpenAICompatModel:
    """`openai-compatible:MODEL@BASE_URL` (also vllm:, sglang:); the URL may come from options."""
    model, base_url = name, None
    at = name.find("@http")
    if at >= 0:
        model, base_url = name[:at], name[at + 1 :]
    if base_url and options.base_url and normalise_base_url(base_url) != normalise_base_url(options.base_url):
        raise ConfigError(
            f"model '{name}' names base URL {base_url} but options.base_url is {options.base_url}",
            hint="give the base URL in one place",
        )
    base_url = base_url or options.base_url
    if not base_url:
        raise ConfigError(
            f"openai-compatible model '{name}' has no base URL",
            hint="write MODEL@http://HOST:PORT/v1 or set base_url",
        )
    if options.api_key_env:
        var: str | None = options.api_key_env
        key = _key_from_env(options.api_key_env, required=True, provider="openai-compatible")
    else:
        var = next((v for v in defaults.API_KEY_ENV_VARS if os.environ.get(v)), None)
        key = os.environ[var] if var else None
    return OpenAICompatModel(
        provider="openai-compatible",
        model=model,
        base_url=base_url,
        options=options,
        api_key=key,
        api_key_env=var,
    )


def from_ollama_spec(name: str, options: TargetOptions) -> OpenAICompatModel:
    """`ollama:MODEL` on the local Ollama server's OpenAI-compatible endpoint (no key needed)."""
    var = options.api_key_env
    key = _key_from_env(var, required=True, provider="ollama") if var else None
    return OpenAICompatModel(
        provider="ollama",
        model=name,
        base_url=options.base_url or defaults.OLLAMA_BASE_URL,
        options=options,
        api_key=key,
        api_key_env=var,
    )


def from_dashscope_spec(name: str, options: TargetOptions) -> OpenAICompatModel:
    """`dashscope:MODEL` (Alibaba Cloud Model Studio, compatible mode)."""
    var = options.api_key_env or "DASHSCOPE_API_KEY"
    key = _key_from_env(var, required=True, provider="dashscope")
    return OpenAICompatModel(
        provider="dashscope",
        model=name,
        base_url=options.base_url or defaults.DASHSCOPE_BASE_URL,
        options=options,
        api_key=key,
        api_key_env=var,
    )
