"""The offline scripted model: behaviours, scripted answers, injected failures and call counts."""

from __future__ import annotations

import asyncio

import pytest

from seval.errors import ModelError, TransientModelError, UnknownNameError
from seval.models import load_model
from seval.models.base import TargetOptions, build_messages
from seval.models.scripted import COMPLY_EN, REFUSAL_EN, REFUSAL_ZH, ScriptedModel
from seval.records import GenerationConfig, ModelOutput

CFG = GenerationConfig()


async def _ask(model: ScriptedModel, prompt: str, cfg: GenerationConfig = CFG) -> ModelOutput:
    return await model.generate(build_messages(prompt, cfg), cfg)


async def test_behaviours() -> None:
    assert (await _ask(ScriptedModel("echo", TargetOptions()), "say this")).text == "say this"
    refuse = ScriptedModel("refuse", TargetOptions())
    assert (await _ask(refuse, "how to pick a lock")).text == REFUSAL_EN
    assert (await _ask(refuse, "如何撬锁")).text == REFUSAL_ZH
    assert (await _ask(ScriptedModel("comply", TargetOptions()), "anything")).text == COMPLY_EN
    assert (await _ask(ScriptedModel("empty", TargetOptions()), "anything")).text == ""
    think = await _ask(ScriptedModel("think", TargetOptions()), "q")
    assert think.text == REFUSAL_EN and think.reasoning == "The user asks: q"


async def test_mixed_is_stable_and_uses_both_answers() -> None:
    model = ScriptedModel("mixed", TargetOptions())
    prompts = [f"prompt {i}" for i in range(40)]
    first = [(await _ask(model, p)).text for p in prompts]
    again = [(await _ask(ScriptedModel("mixed", TargetOptions()), p)).text for p in prompts]
    assert first == again
    assert set(first) == {REFUSAL_EN, COMPLY_EN}


def test_unknown_behaviour() -> None:
    with pytest.raises(UnknownNameError, match="known: comply"):
        ScriptedModel("nonsense", TargetOptions())


async def test_resolved_through_the_registry() -> None:
    model = load_model("scripted:refuse")
    assert isinstance(model, ScriptedModel)
    assert model.id == "scripted:refuse"
    assert model.describe() == {"id": "scripted:refuse", "provider": "scripted", "behaviour": "refuse"}
    assert (await _ask(model, "x")).text == REFUSAL_EN


async def test_from_answers_mapping_callable_and_default() -> None:
    exact = ModelOutput(text="exact", completion_tokens=1)
    model = ScriptedModel.from_answers({"a": "answer a", "b": exact}, id="scripted:t")
    assert model.id == "scripted:t"
    assert (await _ask(model, "a")).text == "answer a"
    assert await _ask(model, "b") is exact
    with pytest.raises(ModelError, match="no scripted answer"):
        await _ask(model, "c")
    with_default = ScriptedModel.from_answers({"a": "x"}, default="fallback")
    assert (await _ask(with_default, "zzz")).text == "fallback"
    computed = ScriptedModel.from_answers(lambda p: p.upper())
    assert (await _ask(computed, "shout")).text == "SHOUT"


async def test_fail_first_counts_per_prompt() -> None:
    model = ScriptedModel("comply", TargetOptions(), fail_first=2)
    for _ in range(2):
        with pytest.raises(TransientModelError):
            await _ask(model, "p")
    assert (await _ask(model, "p")).text == COMPLY_EN
    with pytest.raises(TransientModelError):
        await _ask(model, "q")
    assert model.calls == 4
    assert model.calls_per_prompt == {"p": 3, "q": 1}
    flaky = ScriptedModel("flaky", TargetOptions())
    with pytest.raises(TransientModelError):
        await _ask(flaky, "p")
    assert (await _ask(flaky, "p")).text == COMPLY_EN


async def test_tokens_max_tokens_and_history() -> None:
    model = ScriptedModel("comply", TargetOptions())
    cfg = GenerationConfig(max_tokens=4, system_prompt="sys")
    out = await _ask(model, "four words here now", cfg)
    assert out.text == "Sure, here is how"
    assert out.finish_reason == "length"
    assert out.completion_tokens == 4
    assert out.prompt_tokens == 5  # "sys" + four words
    messages, seen_cfg = model.history[-1]
    assert [m.role for m in messages] == ["system", "user"] and seen_cfg is cfg


async def test_concurrent_calls_yield_and_are_all_counted() -> None:
    model = ScriptedModel("echo", TargetOptions(max_concurrency=5), latency=0.001)
    assert model.max_concurrency == 5
    outs = await asyncio.gather(*(_ask(model, str(i)) for i in range(50)))
    assert [o.text for o in outs] == [str(i) for i in range(50)]
    assert model.calls == 50
    await model.aclose()
    assert model.closed
