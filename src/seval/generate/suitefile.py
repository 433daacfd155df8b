"""The output suite of `seval generate`: an append-only JSONL file that is also the resume state.

Every batch of prompts is appended and fsynced as soon as it is parsed, so a crash loses at most the
call in progress, and the file alone says what is done: re-running the same command counts the rows
per (risk, language) and asks only for the missing ones. A crash in the middle of a write leaves a
last line without its newline; it is cut off (and reported) before anything is appended after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from seval.data.suite_io import parse_case_line, write_suite
from seval.records import TestCase


def generation_meta(case: TestCase) -> dict[str, Any]:
    meta = case.meta.get("generation")
    return meta if isinstance(meta, dict) else {}


def is_native(case: TestCase) -> bool:
    """A generated prompt (not a translation of one): these count towards --per-risk."""
    return case.origin == "generated" and "translated_from" not in generation_meta(case)


class SuiteFile:
    """The rows already in the output file, and appends that survive a crash."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cases: list[TestCase] = []
        self.ids: set[str] = set()
        # Bytes of an unfinished last line that were cut off when the file was opened.
        self.repaired_bytes = 0
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            self.repaired_bytes = len(data) - keep
            with self.path.open("r+b") as fh:
                fh.truncate(keep)
            data = data[:keep]
        for lineno, raw in enumerate(data.split(b"\n"), start=1):
            line = raw.strip()
            if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line:
                continue
            case = parse_case_line(line, f"{self.path}:{lineno}")
            if case.id in self.ids:
                continue
            self.ids.add(case.id)
            self.cases.append(case)

    def append(self, cases: Iterable[TestCase]) -> list[TestCase]:
        """Append the cases whose id is new (an exact duplicate prompt is never written twice) and
        flush them to disk; return those written."""
        fresh: list[TestCase] = []
        for case in cases:
            if case.id not in self.ids:
                self.ids.add(case.id)
                fresh.append(case)
        if not fresh:
            return fresh
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            fh.write(b"".join(c.to_json() + b"\n" for c in fresh))
            fh.flush()
            os.fsync(fh.fileno())
        self.cases.extend(fresh)
        return fresh

    def replace(self, updated: dict[str, TestCase]) -> None:
        """Rewrite the file atomically with some rows replaced (same id), e.g. to link pairs."""
        self.cases = [updated.get(c.id, c) for c in self.cases]
        write_suite(self.cases, self.path)
