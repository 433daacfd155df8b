"""The defense interface: something that stands between a request and a model without touching the
model's weights, so the same object can be evaluated in a run (`DefendedModel`) and deployed in front
of a real server (`seval defend serve`).

A defense works in two steps, so a proxy can stream when the defense allows it:
`prepare` rewrites the request (e.g. adds the selected principles to the system prompt), and
`review` may replace the answer after the fact (e.g. critique-and-revise), calling the model again
through the `Generate` function it is given.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from seval.models.base import ChatModel
from seval.records import GenerationConfig, Message, ModelOutput

Generate = Callable[[list[Message], GenerationConfig], Awaitable[ModelOutput]]


@dataclass
class Prepared:
    """A request after `Defense.prepare`, with what the defense decided (for logs and reports)."""

    messages: list[Message]
    risks: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)


class Defense(abc.ABC):
    """Base class of defenses; plugins join the `seval.defenses` entry-point group."""

    id: str  # stable; changes with the defense's configuration and texts
    name: str
    # True when `review` never changes an answer, so a proxy may stream the upstream answer as is.
    streams: bool = True

    @abc.abstractmethod
    def prepare(self, messages: list[Message]) -> Prepared:
        """Rewrite the request before the model sees it. Must be cheap: it runs on every request."""

    async def review(
        self, prepared: Prepared, output: ModelOutput, generate: Generate, config: GenerationConfig
    ) -> ModelOutput:
        """Optionally replace the answer (may call `generate` again). Default: keep it."""
        return output

    async def warm(self) -> None:  # noqa: B027 - optional hook
        """Load models or data ahead of the first request (a proxy calls it at start-up)."""

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def merge_cost(first: ModelOutput, later: ModelOutput) -> ModelOutput:
    """`later`'s answer with the tokens and latency of both calls: the cost of a defense that calls the
    model twice shows up in the run's token and latency figures."""
    return later.model_copy(
        update={
            "prompt_tokens": _add(first.prompt_tokens, later.prompt_tokens),
            "completion_tokens": _add(first.completion_tokens, later.completion_tokens),
            "latency_s": first.latency_s + later.latency_s,
        }
    )


class DefendedModel(ChatModel):
    """A target with a defense in front: to the engine it is just another model, with its own id, so
    defended and undefended answers of the same model sit side by side in one run."""

    def __init__(self, inner: ChatModel, defense: Defense) -> None:
        self.inner = inner
        self.defense = defense
        self.id = f"{inner.id}+{defense.id}"
        self.max_concurrency = inner.max_concurrency

    async def generate(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        start = time.perf_counter()
        prepared = self.defense.prepare(messages)
        overhead = time.perf_counter() - start
        output = await self.inner.generate(prepared.messages, config)
        output = await self.defense.review(prepared, output, self.inner.generate, config)
        return output.model_copy(update={"latency_s": output.latency_s + overhead})

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "target": self.inner.describe(), "defense": self.defense.describe()}
