"""The one async interface every model (target, critic, generator, rewriter) speaks.

Adapters translate a list of chat messages plus a GenerationConfig into a ModelOutput. They do not
retry: they raise `TransientModelError` for anything worth retrying (429, 5xx, timeouts, dropped
connections) and `ModelError` for anything that is not (401, 404, a malformed request), and the engine
decides about retries, backoff and concurrency in one place.
"""

from __future__ import annotations

import abc
import re
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from seval.records import GenerationConfig, Message, ModelOutput


class TargetOptions(BaseModel):
    """Per-model settings from the run file (or defaults). Secrets are referenced, never stored."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    # Name of the environment variable that holds the API key; the key itself is never persisted.
    api_key_env: str | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=4096)
    timeout_s: float | None = Field(default=None, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    # llama.cpp only: "completion" (base models), "chat" (instruct models with a template), or "auto".
    prompt_format: str = "auto"
    n_ctx: int | None = None
    n_threads: int | None = None
    # Ask the server for log-probabilities of the output (critics use them when available).
    logprobs: bool = False
    extra_body: dict[str, Any] = Field(default_factory=dict)


class ChatModel(abc.ABC):
    """A chat model. `id` names it in stores and reports and must be stable across runs."""

    id: str
    max_concurrency: int = 1

    @abc.abstractmethod
    async def generate(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        """One completion. Raise TransientModelError (retryable) or ModelError (final)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections, threads or weights."""

    def describe(self) -> dict[str, Any]:
        """Identity for run metadata: provider, model, endpoint; never a key."""
        return {"id": self.id}


@runtime_checkable
class CompletionModel(Protocol):
    """A model that also takes raw text and continues it (no chat template, no clean-up).

    Base models are prompted with documents to continue (a numbered list, a parallel text), which a
    chat call would wrap in a template or a transcript; `seval generate` uses this for its list mode.
    """

    id: str

    async def complete(self, prompt: str, config: GenerationConfig) -> ModelOutput:
        """Continue `prompt`; raise TransientModelError (retryable) or ModelError (final)."""
        ...


_THINK_RE = re.compile(r"^\s*<think>(.*?)</think>\s*", re.DOTALL)


def split_reasoning(text: str, reasoning: str | None = None) -> tuple[str, str | None]:
    """Keep a reasoning model's thinking apart from its final answer.

    Servers either return it in a separate field (`reasoning_content`) or inline as a leading
    <think>...</think> block; an unterminated block means the model never reached an answer.
    """
    m = _THINK_RE.match(text)
    if m:
        inline = m.group(1).strip()
        reasoning = f"{reasoning}\n{inline}".strip() if reasoning else inline
        return text[m.end() :], reasoning or None
    stripped = text.lstrip()
    if stripped.startswith("<think>") and "</think>" not in stripped:
        inline = stripped[len("<think>") :].strip()
        return "", (f"{reasoning}\n{inline}".strip() if reasoning else inline) or None
    return text, reasoning


def build_messages(prompt: str, config: GenerationConfig) -> list[Message]:
    msgs: list[Message] = []
    if config.system_prompt:
        msgs.append(Message(role="system", content=config.system_prompt))
    msgs.append(Message(role="user", content=prompt))
    return msgs
