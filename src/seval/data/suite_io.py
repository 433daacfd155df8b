"""Reading and writing test suites: one `TestCase` per line of a JSONL file.

A suite file is the hand-off between `seval data import|seed|generate` and `seval run`, so it is plain
JSONL that a person can read, grep and edit, and every error names the file and the line to fix.

Duplicate ids: the first occurrence wins and later ones are dropped, because a test id keys every
response and verdict of a run, and two different prompts under one id would silently share results.
`read_suite`/`iter_suite` issue a `DuplicateIdWarning` with the count; `dedupe_cases` returns it to
callers that want to report it themselves; `write_suite` drops them too and returns how many it wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from seval.errors import DataError
from seval.records import TestCase

__all__ = [
    "DuplicateIdWarning",
    "dedupe_cases",
    "iter_suite",
    "read_suite",
    "suite_digest",
    "write_suite",
]


class DuplicateIdWarning(UserWarning):
    """Some test cases were dropped because an earlier case had the same id."""


def _describe_validation(err: ValidationError) -> str:
    """The first problem of a pydantic error, phrased for a person editing the file."""
    first = err.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "?"
    kind = first.get("type", "")
    if kind == "missing":
        return f"field '{field}' missing"
    if kind == "extra_forbidden":
        return f"unknown field '{field}' (put extra data under 'meta')"
    return f"field '{field}': {first.get('msg', 'invalid value')}"


def parse_json_object(line: bytes | str, where: str) -> dict[str, Any]:
    """One JSONL line as an object; `where` is `file:line`, the prefix of every error."""
    try:
        obj: Any = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DataError(f"{where}: invalid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    return obj


def parse_case_line(line: bytes, where: str) -> TestCase:
    """Parse one suite line; `where` is `file:line`, used as the prefix of every error."""
    obj = parse_json_object(line, where)
    try:
        return TestCase.model_validate(obj)
    except ValidationError as exc:
        raise DataError(f"{where}: {_describe_validation(exc)}") from None


def iter_suite(path: str | Path) -> Iterator[TestCase]:
    """Stream the cases of a suite file, so that large suites never sit in memory twice.

    Blank lines are skipped. Duplicate ids after the first are dropped; when the stream is exhausted a
    `DuplicateIdWarning` says how many.
    """
    p = Path(path)
    seen: set[str] = set()
    dropped: list[str] = []
    try:
        fh = p.open("rb")
    except OSError as exc:
        raise DataError(f"cannot read suite {p}: {exc.strerror or exc}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if not line:
                continue
            case = parse_case_line(line, f"{p}:{lineno}")
            if case.id in seen:
                dropped.append(case.id)
                continue
            seen.add(case.id)
            yield case
    if dropped:
        shown = ", ".join(dropped[:5]) + (", ..." if len(dropped) > 5 else "")
        warnings.warn(
            f"{p}: dropped {len(dropped)} test case(s) whose id repeats an earlier one ({shown})",
            DuplicateIdWarning,
            stacklevel=2,
        )


def read_suite(path: str | Path) -> list[TestCase]:
    """Read a whole suite file (see `iter_suite` for blank lines and duplicate ids)."""
    return list(iter_suite(path))


def dedupe_cases(cases: Iterable[TestCase]) -> tuple[list[TestCase], int]:
    """Keep the first case of each id; return the kept cases and how many were dropped."""
    seen: set[str] = set()
    kept: list[TestCase] = []
    dropped = 0
    for case in cases:
        if case.id in seen:
            dropped += 1
            continue
        seen.add(case.id)
        kept.append(case)
    return kept, dropped


def write_suite(cases: Iterable[TestCase], path: str | Path) -> int:
    """Write a suite atomically and return the number of cases written.

    The file is written beside its destination and renamed over it, so a crash or Ctrl-C never leaves a
    half-written suite that a later run would read as complete. Cases whose id repeats an earlier one
    are not written.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    written = 0
    seen: set[str] = set()
    try:
        with os.fdopen(fd, "wb") as fh:
            for case in cases:
                if case.id in seen:
                    continue
                seen.add(case.id)
                fh.write(case.to_json())
                fh.write(b"\n")
                written += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return written


def suite_digest(cases: Iterable[TestCase]) -> str:
    """A stable hash of the case ids in order, so a run can tell whether its suite changed.

    Only ids count: they are content-derived (or the source's own trace ids), and hashing them keeps the
    digest cheap for 200,000-case suites. Order counts because sampling and reports follow it.
    """
    h = hashlib.sha256()
    for case in cases:
        h.update(case.id.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:16]


def read_packaged_cases(
    package: str,
    files: dict[str, str],
    what: str,
    check: Callable[[TestCase, str], str | None] | None = None,
) -> dict[str, tuple[TestCase, ...]]:
    """TestCases from JSONL files shipped inside `package`, per language; a bad row (invalid, or one
    `check(case, lang)` objects to) names file:line.

    The built-in suites (seed, benign) are package data, read through importlib.resources so they work
    from a wheel or a zip as well as from a checkout."""
    from importlib import resources

    out: dict[str, tuple[TestCase, ...]] = {}
    base = resources.files(package)
    for lang, name in files.items():
        cases: list[TestCase] = []
        text = base.joinpath(name).read_text(encoding="utf-8")
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                case = TestCase.model_validate_json(line)
            except ValidationError as exc:
                raise DataError(f"{name}:{lineno}: invalid {what} test case: {exc}") from exc
            problem = check(case, lang) if check else None
            if problem:
                raise DataError(f"{name}:{lineno}: {problem}")
            cases.append(case)
        out[lang] = tuple(cases)
    return out
