"""A deterministic, offline model for tests and dry runs.

The whole pipeline must be testable with no network and no weights: `scripted:refuse`,
`scripted:comply` and friends give answers a critic can tell apart, `from_answers` scripts exact
answers, and injected transient failures plus call counters let tests prove that the engine retries
and never asks twice for what it already has.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from seval import defaults
from seval.errors import ModelError, TransientModelError, UnknownNameError
from seval.models.base import ChatModel, TargetOptions, split_reasoning
from seval.records import GenerationConfig, Message, ModelOutput

REFUSAL_EN = "I'm sorry, but I can't help with that request, because it could cause harm."
REFUSAL_ZH = "抱歉，我不能帮助你完成这个请求，因为它可能造成伤害。"
COMPLY_EN = (
    "Sure, here is how to do it. Step 1: gather everything you need. "
    "Step 2: follow the plan carefully. Step 3: check the result and repeat if needed."
)
COMPLY_ZH = (
    "好的，下面是具体做法。第一步：准备所需的一切。第二步：按计划仔细执行。第三步：检查结果，必要时重复。"
)

Answer = str | ModelOutput
AnswerFn = Callable[[str], Answer]


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def _refuse(prompt: str) -> str:
    return REFUSAL_ZH if has_cjk(prompt) else REFUSAL_EN


def _comply(prompt: str) -> str:
    return COMPLY_ZH if has_cjk(prompt) else COMPLY_EN


def _mixed(prompt: str) -> str:
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    return _refuse(prompt) if digest[0] % 2 == 0 else _comply(prompt)


def _think(prompt: str) -> str:
    return f"<think>The user asks: {prompt[:60]}</think>{_refuse(prompt)}"


BEHAVIOURS: dict[str, AnswerFn] = {
    "echo": lambda prompt: prompt,
    "refuse": _refuse,
    "comply": _comply,
    "mixed": _mixed,
    "empty": lambda prompt: "",
    "think": _think,
    # Like comply, but the first call for every prompt fails transiently (engine retry tests).
    "flaky": _comply,
    # Complies, but refuses whenever the request carries a system prompt: a model that over-obeys a
    # safety system prompt (defense tests: safer behind a defense, and refusing benign prompts too).
    "heed": _comply,
}


def _count_tokens(text: str) -> int:
    """A cheap, deterministic stand-in for a tokenizer: words, and each CJK character as one token."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return len(text.split()) + cjk


class ScriptedModel(ChatModel):
    """`scripted:BEHAVIOUR` (echo, refuse, comply, mixed, empty, think, flaky, heed) or scripted answers."""

    def __init__(
        self,
        name: str = "echo",
        options: TargetOptions | None = None,
        *,
        answers: Mapping[str, Answer] | AnswerFn | None = None,
        default: Answer | None = None,
        id: str | None = None,
        fail_first: int = 0,
        latency: float = 0.0,
    ) -> None:
        options = options or TargetOptions()
        if answers is None:
            if name not in BEHAVIOURS:
                known = ", ".join(sorted(BEHAVIOURS))
                raise UnknownNameError(f"unknown scripted behaviour '{name}' (known: {known})")
            self._fn: AnswerFn | None = BEHAVIOURS[name]
            self._map: Mapping[str, Answer] | None = None
            if name == "flaky":
                fail_first = max(fail_first, 1)
        elif callable(answers):
            self._fn, self._map = answers, None
        else:
            self._fn, self._map = None, dict(answers)
        self.name = name
        self.id = id or f"scripted:{name}"
        self.max_concurrency = options.max_concurrency or defaults.MAX_CONCURRENCY_REMOTE
        self.default = default
        self.fail_first = fail_first
        self.latency = latency
        # Counters tests assert on: every call, including those that failed on purpose.
        self.calls = 0
        self.calls_per_prompt: Counter[str] = Counter()
        self.history: list[tuple[list[Message], GenerationConfig]] = []
        self.closed = False

    @classmethod
    def from_answers(
        cls,
        answers: Mapping[str, Answer] | AnswerFn,
        *,
        id: str = "scripted:custom",
        default: Answer | None = None,
        fail_first: int = 0,
        latency: float = 0.0,
        max_concurrency: int | None = None,
    ) -> ScriptedModel:
        """Exact answers by prompt (a mapping) or computed from the prompt (a callable).

        A mapping without an entry for a prompt answers `default`, or raises ModelError when there is
        none, so a test notices prompts it did not expect.
        """
        return cls(
            "custom",
            TargetOptions(max_concurrency=max_concurrency),
            answers=answers,
            default=default,
            id=id,
            fail_first=fail_first,
            latency=latency,
        )

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "provider": "scripted", "behaviour": self.name}

    def __repr__(self) -> str:
        return f"ScriptedModel(id={self.id!r})"

    def _answer(self, prompt: str) -> Answer:
        if self._fn is not None:
            return self._fn(prompt)
        assert self._map is not None
        if prompt in self._map:
            return self._map[prompt]
        if self.default is not None:
            return self.default
        raise ModelError(f"{self.id}: no scripted answer for prompt {prompt[:60]!r}")

    async def generate(self, messages: list[Message], config: GenerationConfig) -> ModelOutput:
        started = time.perf_counter()
        self.calls += 1
        self.history.append((messages, config))
        prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
        self.calls_per_prompt[prompt] += 1
        # Always yield to the loop, as a network call would, so concurrency bugs can surface.
        await asyncio.sleep(self.latency)
        if self.calls_per_prompt[prompt] <= self.fail_first:
            raise TransientModelError(
                f"{self.id}: scripted transient failure {self.calls_per_prompt[prompt]}/{self.fail_first}"
            )
        if self.name == "heed" and any(m.role == "system" for m in messages):
            answer: Answer = _refuse(prompt)
        else:
            answer = self._answer(prompt)
        if isinstance(answer, ModelOutput):
            return answer
        text, reasoning = split_reasoning(answer)
        finish = "stop"
        if config.max_tokens is not None and _count_tokens(text) > config.max_tokens:
            text = (
                " ".join(text.split()[: config.max_tokens])
                if not has_cjk(text)
                else text[: config.max_tokens]
            )
            finish = "length"
        prompt_tokens = sum(_count_tokens(m.content) for m in messages)
        return ModelOutput(
            text=text,
            reasoning=reasoning,
            prompt_tokens=prompt_tokens,
            completion_tokens=_count_tokens(text),
            finish_reason=finish,
            latency_s=time.perf_counter() - started,
        )

    async def complete(self, prompt: str, config: GenerationConfig) -> ModelOutput:
        """Raw-text continuation (CompletionModel): the scripted answer for the prompt text itself,
        with the same counters, injected failures and max_tokens cut as `generate`."""
        return await self.generate([Message(role="user", content=prompt)], config)

    async def aclose(self) -> None:
        self.closed = True
