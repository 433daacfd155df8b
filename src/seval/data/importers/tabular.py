"""Importer for other people's prompt sets: JSONL, CSV/TSV and Parquet with a column mapping.

`mapping` goes from a TestCase field to a source column, e.g. `{"prompt": "question", "risk":
"category"}`. A field that is not mapped is read from a column of the same name when there is one (so a
file already in seval's shape needs no mapping); map a field to `""` to ignore such a column.

Decisions:
- Rows with an empty or missing prompt are skipped and counted (`empty_skipped`), not an error: public
  sets often carry a few blank rows, and refusing the whole file for them helps nobody.
- Risk values go through the taxonomy (ids, aliases, English or Chinese names). All unknown values of a
  file are reported in one error, so they can be mapped in one pass.
- Ids come from the id column when mapped (and non-empty), else from the content
  (`TestCase.make_id`), so importing the same file twice gives the same ids.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seval.data.importers._common import (
    RiskResolver,
    TaxonomyLike,
    detect_lang,
    load_default_taxonomy,
    normalize_lang,
    unknown_labels_error,
)
from seval.data.suite_io import parse_json_object
from seval.errors import ConfigError, DataError, UnknownNameError
from seval.records import TestCase

__all__ = ["MAPPABLE_FIELDS", "TABULAR_SUFFIXES", "TabularImport", "import_tabular", "parse_mapping"]

MAPPABLE_FIELDS = ("prompt", "risk", "lang", "id", "attack", "parent_id", "benign", "pair_id")
TABULAR_SUFFIXES = (".jsonl", ".ndjson", ".csv", ".tsv", ".parquet", ".pq")

_TRUE = {"true", "1", "yes", "y", "t", "benign"}
_FALSE = {"false", "0", "no", "n", "f", "", "harmful", "unsafe"}


def parse_mapping(spec: str | None) -> dict[str, str]:
    """Parse `prompt=question,risk=category` (the CLI's --map) into a mapping."""
    out: dict[str, str] = {}
    if not spec:
        return out
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        field_name, sep, column = part.partition("=")
        if not sep:
            raise ConfigError(f"bad mapping {part!r}: expected FIELD=COLUMN, e.g. prompt=question")
        out[field_name.strip()] = column.strip()
    check_mapping(out)
    return out


def check_mapping(mapping: Mapping[str, str | None]) -> None:
    unknown = [k for k in mapping if k not in MAPPABLE_FIELDS]
    if unknown:
        raise ConfigError(
            f"cannot map unknown field(s) {', '.join(map(repr, unknown))}; "
            f"mappable fields: {', '.join(MAPPABLE_FIELDS)}"
        )


@dataclass
class _Table:
    columns: list[str]
    rows: Iterator[tuple[int, dict[str, Any]]]  # (line or row number, values)
    unit: str  # "line" or "row", for messages


def _suffix(path: Path) -> str:
    return path.suffix.lower()


def _read_jsonl(path: Path, data: bytes) -> _Table:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    rows: list[tuple[int, dict[str, Any]]] = []
    columns: dict[str, None] = {}
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"{path}:{lineno}"
        obj = parse_json_object(line, where)
        for k in obj:
            if k not in columns:
                columns[k] = None
        rows.append((lineno, obj))
    return _Table(list(columns), iter(rows), "line")


def _read_csv(path: Path, data: bytes, delimiter: str) -> _Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: file is empty") from None
    except csv.Error as exc:
        raise DataError(f"{path}:1: {exc}") from None
    header = [h.strip() for h in header]

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DataError(f"{path}:{reader.line_num}: {exc}") from None
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                raise DataError(
                    f"{path}:{reader.line_num}: {len(values)} fields but the header has {len(header)}"
                )
            yield reader.line_num, dict(zip(header, values, strict=False))

    return _Table(header, rows(), "line")


def _read_parquet(path: Path, wanted: list[str]) -> _Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        columns = list(pf.schema_arrow.names)
        present = [c for c in wanted if c in columns]
        table = pf.read(columns=present)
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{path}: cannot read as Parquet ({exc})") from None
    data = {name: table.column(name).to_pylist() for name in present}

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for i in range(table.num_rows):
            yield i + 1, {name: values[i] for name, values in data.items()}

    return _Table(columns, rows(), "row")


def _open_table(path: Path, wanted: list[str]) -> _Table:
    suffix = _suffix(path)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path, wanted)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data.strip():
        raise DataError(f"{path}: file is empty")
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path, data)
    if suffix == ".csv":
        return _read_csv(path, data, ",")
    if suffix == ".tsv":
        return _read_csv(path, data, "\t")
    raise DataError(
        f"{path}: unsupported file type {suffix or '(none)'!r}",
        hint=f"supported: .jsonl.zip (S-Eval), {', '.join(TABULAR_SUFFIXES)}",
    )


def _text(value: Any) -> str | None:
    """A cell as text; None for missing or blank cells."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas-written files
        return None
    s = value if isinstance(value, str) else str(value)
    s = s.strip()
    return s or None


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        return bool(value)
    s = str(value).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise DataError(f"{where}: cannot read {value!r} as true/false for 'benign'")


@dataclass
class TabularImport:
    cases: list[TestCase]
    empty_skipped: int = 0


def import_tabular(
    path: str | Path,
    *,
    mapping: Mapping[str, str | None] | None = None,
    default_lang: str | None = None,
    default_risk: str | None = None,
    taxonomy: TaxonomyLike | None = None,
) -> TabularImport:
    """Import one JSONL, CSV/TSV or Parquet file (see the module doc for the rules)."""
    p = Path(path)
    explicit = dict(mapping or {})
    check_mapping(explicit)
    tax = taxonomy if taxonomy is not None else load_default_taxonomy()
    resolver = RiskResolver(tax)

    fallback_risk: str | None = None
    if default_risk:
        fallback_risk = resolver.get(default_risk)
        if fallback_risk is None:
            raise UnknownNameError(
                f"unknown default risk {default_risk!r}", hint="see `seval taxonomy` for risk ids"
            )
    lang_default = normalize_lang(default_lang) if default_lang else None

    wanted = [c for c in explicit.values() if c] + [f for f in MAPPABLE_FIELDS if f not in explicit]
    table = _open_table(p, wanted)
    cols = set(table.columns)

    missing = [f"{fld}={col}" for fld, col in explicit.items() if col and col not in cols]
    if missing:
        raise DataError(
            f"{p}: mapped column(s) not found: {', '.join(missing)}; "
            f"available columns: {', '.join(table.columns) or '(none)'}"
        )
    resolved: dict[str, str] = {}
    for fld in MAPPABLE_FIELDS:
        if fld in explicit:
            if explicit[fld]:
                resolved[fld] = str(explicit[fld])
        elif fld in cols:
            resolved[fld] = fld
    if "prompt" not in resolved:
        raise DataError(
            f"{p}: no prompt column; available columns: {', '.join(table.columns) or '(none)'}",
            hint="map one with --map prompt=COLUMN",
        )
    if "risk" not in resolved and fallback_risk is None:
        raise DataError(
            f"{p}: no risk for the prompts; available columns: {', '.join(table.columns) or '(none)'}",
            hint="map a column with --map risk=COLUMN, or give one risk for all with --risk ID",
        )

    c_prompt = resolved["prompt"]
    c_risk = resolved.get("risk")
    c_lang = resolved.get("lang")
    c_id = resolved.get("id")
    c_attack = resolved.get("attack")
    c_parent = resolved.get("parent_id")
    c_benign = resolved.get("benign")
    c_pair = resolved.get("pair_id")

    cases: list[TestCase] = []
    empty = 0
    unknown: dict[str, int] = {}
    no_risk_line: int | None = None
    meta = {"source_file": p.name}
    for lineno, row in table.rows:
        prompt_raw = row.get(c_prompt)
        prompt = prompt_raw if isinstance(prompt_raw, str) else _text(prompt_raw)
        if prompt is None or not prompt.strip():
            empty += 1
            continue
        where = f"{p}:{lineno}"

        risk_label = _text(row.get(c_risk)) if c_risk else None
        if risk_label is None:
            risk = fallback_risk
            if risk is None:
                no_risk_line = no_risk_line or lineno
                continue
        else:
            got = resolver.get(risk_label)
            if got is None:
                unknown.setdefault(risk_label, lineno)
                continue
            risk = got
        if unknown or no_risk_line:
            continue  # keep scanning for more unknown labels, build nothing

        lang_val = _text(row.get(c_lang)) if c_lang else None
        lang = normalize_lang(lang_val) if lang_val else lang_default or detect_lang(prompt)
        attack = _text(row.get(c_attack)) if c_attack else None
        parent = _text(row.get(c_parent)) if c_parent else None
        case_id = (_text(row.get(c_id)) if c_id else None) or TestCase.make_id(lang, prompt, attack, parent)
        cases.append(
            TestCase(
                id=case_id,
                lang=lang,
                risk=risk,
                prompt=prompt,
                origin="import",
                parent_id=parent,
                attack=attack,
                benign=_bool(row.get(c_benign), where) if c_benign else False,
                pair_id=_text(row.get(c_pair)) if c_pair else None,
                meta=dict(meta),
            )
        )
    if unknown:
        raise unknown_labels_error(
            str(p), unknown, "risk value", context=f" in column {c_risk!r}", unit=table.unit
        )
    if no_risk_line:
        raise DataError(
            f"{p}:{no_risk_line}: empty risk value",
            hint="fill the column, or give a default risk with --risk ID",
        )
    if not cases and not empty:
        raise DataError(f"{p}: file has no rows")
    return TabularImport(cases=cases, empty_skipped=empty)
