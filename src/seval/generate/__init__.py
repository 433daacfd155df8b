"""Test generation (S-Eval's Mt): new risk prompts per risk and language, with provenance.

    seval generate --risks ci.drug_crimes,hs --per-risk 20 --lang zh,en --generator llamacpp:default \\
        --out gen.jsonl [--pair] [--examples suite.jsonl]
    seval generate export-sft --in selected.jsonl --out sft.jsonl

`generate_suite` (generator.py) runs the pipeline and appends TestCase rows (origin "generated") to a
JSONL suite that `seval select` reads; `pair_translations` (translate.py) adds the parallel prompt in
the other language; `export_sft` (sft.py) writes (instruction -> prompt) chat pairs for fine-tuning.

The stage's defaults are `seval.defaults.GEN_*`.
"""

from __future__ import annotations

from seval.generate.generator import (
    CellReport,
    GenerateOptions,
    GenerationError,
    GenerationReport,
    generate_suite,
    resolve_mode,
)
from seval.generate.sft import export_sft
from seval.generate.translate import pair_translations

__all__ = [
    "CellReport",
    "GenerateOptions",
    "GenerationError",
    "GenerationReport",
    "export_sft",
    "generate_suite",
    "pair_translations",
    "resolve_mode",
]
