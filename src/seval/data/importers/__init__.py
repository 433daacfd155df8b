"""Turn prompt files into test cases: S-Eval release files and any JSONL/CSV/Parquet with a mapping.

`import_files` picks the importer by the file's shape rather than asking the user, because the S-Eval
files need their own rules (language from the name, `ext` parsing, attack-to-base links) while every
other file only needs a column mapping.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Literal

import orjson

from seval.data.importers._common import (
    ImportResult,
    TaxonomyLike,
    detect_lang,
    load_default_taxonomy,
    normalize_lang,
)
from seval.data.importers.s_eval import SEVAL_FIELDS, import_s_eval, is_s_eval_record, jsonl_members
from seval.data.importers.tabular import TABULAR_SUFFIXES, import_tabular, parse_mapping
from seval.errors import DataError
from seval.records import TestCase

__all__ = [
    "ImportResult",
    "detect_lang",
    "file_kind",
    "import_files",
    "import_s_eval",
    "import_tabular",
    "normalize_lang",
    "parse_mapping",
]

FileKind = Literal["s-eval", "tabular"]
_SNIFF_BYTES = 1 << 20


def _first_record(fh: IO[bytes]) -> object | None:
    """The first non-blank line of a binary stream parsed as JSON, or None when it is not JSON."""
    for _ in range(1000):
        line = fh.readline(_SNIFF_BYTES)
        if not line:
            return None
        line = line.strip()
        if line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        if line:
            try:
                return orjson.loads(line)
            except orjson.JSONDecodeError:
                return None
    return None


def file_kind(path: str | Path) -> FileKind:
    """`s-eval` when the file looks like an S-Eval release file (fields traceid, risk_type, prompt, ext)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"cannot read {p}: no such file")
    if not p.is_file():
        raise DataError(f"cannot read {p}: not a file")
    name = p.name.lower()
    try:
        if p.stat().st_size == 0:
            raise DataError(f"{p}: file is empty")
        if name.endswith(".zip"):
            try:
                with zipfile.ZipFile(p) as zf:
                    members = jsonl_members(zf)
                    if not members:
                        raise DataError(f"{p}: the archive holds no .jsonl file")
                    with zf.open(members[0]) as fh:
                        first = _first_record(fh)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise DataError(f"{p}: not a valid zip archive ({exc}); is the download complete?") from None
            if is_s_eval_record(first):
                return "s-eval"
            raise DataError(
                f"{p}: zip archives are read only for S-Eval release files "
                f"(lines with {', '.join(SEVAL_FIELDS)})",
                hint="unzip it and import the file inside",
            )
        if name.endswith((".jsonl", ".ndjson")):
            with p.open("rb") as fh:
                first = _first_record(fh)
            return "s-eval" if is_s_eval_record(first) else "tabular"
    except OSError as exc:
        raise DataError(f"cannot read {p}: {exc.strerror or exc}") from None
    if name.endswith(TABULAR_SUFFIXES):
        return "tabular"
    raise DataError(
        f"{p}: unsupported file type {p.suffix or '(none)'!r}",
        hint=f"supported: .jsonl.zip (S-Eval), {', '.join(TABULAR_SUFFIXES)}",
    )


def import_files(
    paths: Sequence[str | Path],
    *,
    mapping: Mapping[str, str | None] | None = None,
    default_lang: str | None = None,
    default_risk: str | None = None,
    taxonomy: TaxonomyLike | None = None,
) -> ImportResult:
    """Import files of either kind into one list of cases, with the numbers to check it by.

    S-Eval files are imported together so that attack prompts can be linked to base prompts given in
    the same call. `mapping`, `default_risk` apply to tabular files; `default_lang` applies to tabular
    files and to S-Eval files whose name carries no language. Ids that repeat an earlier case (e.g. the
    small set imported beside the full set that contains it) are dropped, first one wins.
    """
    if not paths:
        raise DataError("no input files given")
    tax = taxonomy if taxonomy is not None else load_default_taxonomy()
    lang = normalize_lang(default_lang) if default_lang else None

    unique: list[Path] = []
    seen_paths: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        key = p.resolve()
        if key not in seen_paths:
            seen_paths.add(key)
            unique.append(p)
    kinds = {str(p): file_kind(p) for p in unique}

    result = ImportResult()
    seval_paths = [p for p in unique if kinds[str(p)] == "s-eval"]
    by_file: dict[str, list[TestCase]] = {}
    if seval_paths:
        s = import_s_eval(seval_paths, taxonomy=tax, default_lang=lang)
        by_file.update(s.by_file)
        result.empty_skipped += s.empty_skipped
        result.parent_links = s.parent_links
    for p in unique:
        if kinds[str(p)] == "tabular":
            t = import_tabular(p, mapping=mapping, default_lang=lang, default_risk=default_risk, taxonomy=tax)
            by_file[str(p)] = t.cases
            result.empty_skipped += t.empty_skipped

    seen: set[str] = set()
    for p in unique:
        kept = 0
        for case in by_file.get(str(p), ()):
            if case.id in seen:
                result.duplicates_dropped += 1
                continue
            seen.add(case.id)
            result.cases.append(case)
            kept += 1
        result.per_file[str(p)] = kept
    return result
