"""SFT export: (instruction -> prompt) chat pairs from selected prompts, to train one's own Mt.

S-Eval's Mt is an LLM fine-tuned to write test prompts for a given risk. This writes the training data
for that in the chat JSONL format that common fine-tuning tools read as is (OpenAI fine-tuning, TRL's
SFTTrainer, LLaMA-Factory's OpenAI-style datasets): one object per line,

    {"messages": [{"role": "system", ...}, {"role": "user", ...}, {"role": "assistant", ...}]}

The system and user messages are exactly what the chat mode sends when it asks for one prompt
(prompts.chat_messages with n = 1 and no examples), so a model trained on the export is prompted at
generation time the way it was trained. The export is deterministic: same input, same bytes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from seval.data.suite_io import iter_suite
from seval.errors import UnknownNameError
from seval.generate import prompts
from seval.generate.generator import check_langs
from seval.records import TestCase
from seval.taxonomy import Taxonomy, load_taxonomy


@dataclass
class SftReport:
    written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    by_lang: dict[str, int] = field(default_factory=dict)


def sft_record(case: TestCase, taxonomy: Taxonomy) -> dict[str, Any]:
    """The chat example teaching a model to answer the one-prompt instruction with `case.prompt`."""
    node = taxonomy.get(case.risk)
    messages = prompts.chat_messages(node, case.lang, 1)
    return {
        "messages": [
            *({"role": m.role, "content": m.content} for m in messages),
            {"role": "assistant", "content": case.prompt.strip()},
        ]
    }


def export_sft(
    source: str | Path,
    out: str | Path,
    *,
    langs: Sequence[str] | None = None,
    taxonomy: Taxonomy | None = None,
) -> SftReport:
    """Write one chat example per usable prompt of `source` to `out` (atomically).

    Skipped: languages outside `langs`, benign contrast prompts and attack-wrapped prompts (neither is
    what Mt writes), and prompts whose risk the taxonomy does not know (an error if none is left).
    """
    taxonomy = taxonomy or load_taxonomy()
    wanted = check_langs(langs) if langs else None
    report = SftReport()
    lines: list[bytes] = []
    unknown: set[str] = set()

    def skip(reason: str) -> None:
        report.skipped[reason] = report.skipped.get(reason, 0) + 1

    for case in iter_suite(source):
        if wanted is not None and case.lang not in wanted:
            skip("other language")
        elif case.lang not in prompts.SYSTEM_PROMPTS:
            skip("language without a template")
        elif case.benign:
            skip("benign")
        elif case.attack is not None:
            skip("attack prompt")
        elif not case.prompt.strip():
            skip("empty prompt")
        elif case.risk not in taxonomy:
            unknown.add(case.risk)
            skip("unknown risk")
        else:
            lines.append(orjson.dumps(sft_record(case, taxonomy)) + b"\n")
            report.by_lang[case.lang] = report.by_lang.get(case.lang, 0) + 1
    if unknown and not lines:
        first = sorted(unknown)[0]
        taxonomy.get(first)  # raises with a "did you mean" hint
        raise UnknownNameError(f"unknown risk id {first!r}")  # pragma: no cover - get() raised
    _write_atomic(Path(out), lines)
    report.written = len(lines)
    return report


def _write_atomic(path: Path, lines: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
