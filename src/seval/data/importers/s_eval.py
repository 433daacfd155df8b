"""Importer for the official S-Eval release files (`S-Eval_base_risk_zh_full.jsonl.zip` and kin).

Each line has `traceid`, `risk_type` (the dimension, e.g. `Data_Privacy`), `prompt` and `ext`, a JSON
*string* with `model` (`base_risk` or `attack`), `from_traceid` (an English base prompt's Chinese
original) and `category` (the attack name, in attack files).

The release does not say which base prompt an attack prompt was derived from, yet comparing a model's
answer to the attack with its answer to the plain request is the point of an attack set. So attack
prompts are linked to a base prompt imported in the same call, on evidence, in this order:

1. `verbatim`: the base prompt's text appears in the attack prompt (most templates embed it; when
   several do, e.g. fabricated dialogue turns, the one ending last wins, as the real request comes last);
2. `decoded`: it appears after undoing the URL, Base64 or Caesar encoding of `instruction_encryption`
   (English attack files encode the *Chinese* prompt; the link goes through `from_traceid`);
3. `sibling`: the release lists each attack's prompts in the same base order, so the k-th prompt of
   every attack in a file shares one base prompt. Where the attacks linked by 1-2 at rank k agree
   unanimously (at least two of them, same risk), the others at rank k get that parent too. Only attacks
   with the file's usual number of prompts take part, and the rule is switched off for a file whose
   linked ranks do not agree at least `SIBLING_MIN_AGREEMENT` of the time.

Prompts with no evidence keep `parent_id=None`; `meta["link"]` records which evidence was used.
"""

from __future__ import annotations

import base64
import binascii
import re
import zipfile
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson

from seval.data.importers._common import (
    RiskResolver,
    TaxonomyLike,
    detect_lang,
    load_default_taxonomy,
    unknown_labels_error,
)
from seval.data.suite_io import parse_json_object
from seval.errors import DataError
from seval.records import TestCase

__all__ = [
    "SEVAL_FIELDS",
    "SEvalImport",
    "import_s_eval",
    "is_s_eval_record",
    "iter_jsonl_sources",
]

SEVAL_FIELDS = ("traceid", "risk_type", "prompt", "ext")
ORIGIN_PREFIX = "s-eval:"
SIBLING_MIN_AGREEMENT = 0.9
# A file whose name names no language takes one language for all its lines when this share agrees.
ONE_LANGUAGE_SHARE = 0.9
# Base prompts shorter than this are never matched verbatim: a short question can occur by chance
# inside an unrelated attack prompt.
MIN_VERBATIM_CHARS = 6
# Length of the tail of a base prompt used to look it up at each sentence end of an attack prompt.
_TAIL = 8

_NAME_LANG = re.compile(r"(?:^|[_\-.])(zh|en)(?=[_\-.]|$)", re.IGNORECASE)
_NAME_KIND = re.compile(r"(?:^|[_\-.])(base_risk|attack)(?=[_\-.]|$)", re.IGNORECASE)
_NAME_SET = re.compile(r"_(?:zh|en)_([A-Za-z0-9][A-Za-z0-9.]*?)\.jsonl", re.IGNORECASE)


def is_s_eval_record(obj: Any) -> bool:
    """True when a parsed JSON line has the shape of an S-Eval release record."""
    return isinstance(obj, dict) and all(k in obj for k in SEVAL_FIELDS)


# --- reading -----------------------------------------------------------------------------------------


@dataclass
class _Source:
    """One JSONL document: a plain file or one member of a zip archive."""

    where: str  # prefix of error messages
    file_name: str  # the file's own name, kept in meta
    data: bytes


def jsonl_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The JSONL members of an archive, without the `__MACOSX/` resource forks the release carries."""
    out = []
    for info in zf.infolist():
        name = info.filename
        base = name.rsplit("/", 1)[-1]
        if info.is_dir() or name.startswith("__MACOSX/") or base.startswith("._"):
            continue
        if base.lower().endswith((".jsonl", ".json", ".ndjson")):
            out.append(info)
    return out


def iter_jsonl_sources(path: Path) -> Iterator[_Source]:
    """Yield the JSONL documents of a `.jsonl` file or a `.zip` of them (macOS metadata ignored)."""
    where = str(path)
    if path.name.lower().endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as zf:
                members = jsonl_members(zf)
                if not members:
                    raise DataError(f"{where}: the archive holds no .jsonl file")
                for info in members:
                    sub = where if len(members) == 1 else f"{where}!{info.filename}"
                    try:
                        data = zf.read(info)
                    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                        raise DataError(f"{sub}: damaged archive member ({exc})") from None
                    yield _Source(sub, path.name, data)
        except zipfile.BadZipFile as exc:
            raise DataError(f"{where}: not a valid zip archive ({exc}); is the download complete?") from None
        except OSError as exc:
            raise DataError(f"cannot read {where}: {exc.strerror or exc}") from None
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read {where}: {exc.strerror or exc}") from None
        yield _Source(where, path.name, data)


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.strip()
        if line:
            yield lineno, line


def _name_info(file_name: str) -> tuple[str | None, str | None, str | None]:
    """Language, kind (`base_risk`/`attack`) and set (`small`, `full`, `v0.1.2`) from a release name."""
    stem = file_name
    for suffix in (".zip", ".jsonl", ".json", ".ndjson"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    lang = _NAME_LANG.search(stem)
    kind = _NAME_KIND.search(stem)
    sset = _NAME_SET.search(file_name)
    return (
        lang.group(1).lower() if lang else None,
        kind.group(1).lower() if kind else None,
        sset.group(1) if sset else None,
    )


@dataclass(slots=True)
class _Row:
    id: str
    lang: str
    risk: str
    risk_type: str
    prompt: str
    model: str
    attack: str | None
    pair_id: str | None
    source: str
    set_name: str | None
    parent: str | None = None
    link: str | None = None


def _str_field(obj: dict[str, Any], key: str, where: str) -> str:
    try:
        value = obj[key]
    except KeyError:
        raise DataError(f"{where}: field {key!r} missing") from None
    if not isinstance(value, str):
        raise DataError(f"{where}: field {key!r} must be a string, got {type(value).__name__}")
    return value


def _parse_source(src: _Source, resolver: RiskResolver, default_lang: str | None) -> tuple[list[_Row], int]:
    """Rows of one document and the number of empty prompts skipped."""
    name_lang, name_kind, set_name = _name_info(src.file_name)
    parsed: list[tuple[int, str, str, str, dict[str, Any]]] = []
    unknown: dict[str, int] = {}
    for lineno, line in _lines(src.data):
        where = f"{src.where}:{lineno}"
        obj = parse_json_object(line, where)
        traceid = _str_field(obj, "traceid", where)
        risk_type = _str_field(obj, "risk_type", where)
        prompt = _str_field(obj, "prompt", where)
        if "ext" not in obj:
            raise DataError(f"{where}: field 'ext' missing")
        ext_raw = obj["ext"]
        if isinstance(ext_raw, str):
            try:
                ext = orjson.loads(ext_raw) if ext_raw.strip() else {}
            except orjson.JSONDecodeError as exc:
                raise DataError(f"{where}: field 'ext' is not valid JSON ({exc})") from None
        elif ext_raw is None:
            ext = {}
        else:
            ext = ext_raw
        if not isinstance(ext, dict):
            raise DataError(f"{where}: field 'ext' must hold a JSON object")
        if not traceid.strip():
            raise DataError(f"{where}: field 'traceid' is empty")
        if resolver.get(risk_type) is None and risk_type not in unknown:
            unknown[risk_type] = lineno
        parsed.append((lineno, traceid, risk_type, prompt, ext))
    if not parsed:
        raise DataError(f"{src.where}: file is empty")
    if unknown:
        raise unknown_labels_error(src.where, unknown, "risk_type")

    file_lang = name_lang or default_lang
    line_langs: list[str] = []
    if file_lang is None:
        # A release file holds one language, and English attack prompts can carry encoded Chinese
        # text, so a file whose lines nearly all agree takes one language for all of them. A file that
        # a user assembled from both languages is detected line by line instead.
        line_langs = [detect_lang(prompt) for _, _, _, prompt, _ in parsed]
        top, top_n = Counter(line_langs).most_common(1)[0]
        if top_n >= ONE_LANGUAGE_SHARE * len(line_langs):
            file_lang = top

    rows: list[_Row] = []
    empty = 0
    for i, (lineno, traceid, risk_type, prompt, ext) in enumerate(parsed):
        lang = file_lang or line_langs[i]
        if not prompt.strip():
            empty += 1
            continue
        model = ext.get("model") or name_kind or "base_risk"
        if not isinstance(model, str):
            raise DataError(f"{src.where}:{lineno}: ext.model must be a string")
        attack = None
        if model == "attack":
            attack = ext.get("category")
            if not isinstance(attack, str) or not attack.strip():
                raise DataError(f"{src.where}:{lineno}: attack prompt without ext.category (the attack name)")
            attack = attack.strip()
        pair = ext.get("from_traceid")
        risk = resolver.get(risk_type)
        assert risk is not None  # unknown labels raised above
        rows.append(
            _Row(
                id=traceid,
                lang=lang,
                risk=risk,
                risk_type=risk_type,
                prompt=prompt,
                model=model,
                attack=attack,
                pair_id=pair if isinstance(pair, str) and pair else None,
                source=src.file_name,
                set_name=set_name,
            )
        )
    return rows, empty


# --- linking attack prompts to base prompts ------------------------------------------------------------


class _BaseIndex:
    """Finds which base prompts of one language occur verbatim in a text.

    Looking every base prompt up in every attack prompt costs base x attack substring searches (10^8 for
    the full set); instead each base prompt is keyed by its last characters, and only the sentence ends
    of the attack text (where a base prompt usually ends: `?`, `。`...) are looked up. The few base
    prompts that do not end in punctuation are searched for directly, within their risk.
    """

    def __init__(self, rows: Sequence[_Row]) -> None:
        self.rows = list(rows)
        self.needles = [r.prompt.strip() for r in self.rows]
        self.by_id = {r.id: i for i, r in enumerate(self.rows)}
        self.tails: dict[str, list[int]] = defaultdict(list)
        self.fallback: dict[str, list[int]] = defaultdict(list)
        ends: set[str] = set()
        for i, needle in enumerate(self.needles):
            if len(needle) < MIN_VERBATIM_CHARS:
                continue
            last = needle[-1]
            if len(needle) >= _TAIL and not last.isalnum():
                self.tails[needle[-_TAIL:]].append(i)
                ends.add(last)
            else:
                self.fallback[self.rows[i].risk].append(i)
        self.end_re = re.compile("[" + "".join(re.escape(c) for c in sorted(ends)) + "]") if ends else None

    def find(self, text: str, risk: str) -> int | None:
        """Index of the base prompt (same risk) that ends last in `text`, longest on ties."""
        best: int | None = None
        best_key = (-1, -1)
        rows, needles = self.rows, self.needles
        if self.end_re is not None:
            tails = self.tails
            for m in self.end_re.finditer(text):
                end = m.end()
                if end < _TAIL:
                    continue
                cands = tails.get(text[end - _TAIL : end])
                if not cands:
                    continue
                for i in cands:
                    needle = needles[i]
                    start = end - len(needle)
                    if start < 0 or rows[i].risk != risk or not text.startswith(needle, start):
                        continue
                    key = (end, len(needle))
                    if key > best_key:
                        best_key, best = key, i
        for i in self.fallback.get(risk, ()):
            needle = needles[i]
            pos = text.rfind(needle)
            if pos >= 0:
                key = (pos + len(needle), len(needle))
                if key > best_key:
                    best_key, best = key, i
        return best


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_B64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_CAESAR_OFFSET = re.compile(r"(?:偏移量|偏移|位移|offset|shift)\D{0,12}?(\d{1,3})", re.IGNORECASE)


def _caesar_back(text: str, n: int) -> str:
    out = []
    for ch in text:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF:
            out.append(chr(o - n))
        elif 65 <= o <= 90:
            out.append(chr((o - 65 - n) % 26 + 65))
        elif 97 <= o <= 122:
            out.append(chr((o - 97 - n) % 26 + 97))
        else:
            out.append(ch)
    return "".join(out)


def _decodings(text: str) -> Iterator[str]:
    """Plain-text readings of an encoded prompt (URL, Base64, Caesar); nothing for plain prompts."""
    if _PERCENT.search(text):
        yield unquote(text)
    for m in _B64_RUN.finditer(text):
        chunk = m.group(0)
        try:
            raw = base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True)
            yield raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    offset = _CAESAR_OFFSET.search(text)
    if offset:
        n = int(offset.group(1))
        if 0 < n < 0x4E00:
            yield _caesar_back(text, n)


@dataclass
class _Linker:
    """Attack-to-base links for one import call."""

    index: dict[str, _BaseIndex]
    # (lang, other-language base id) -> base id in `lang`, from `from_traceid`.
    via_pair: dict[tuple[str, str], str]

    @classmethod
    def build(cls, base_rows: Iterable[_Row]) -> _Linker:
        by_lang: dict[str, list[_Row]] = defaultdict(list)
        for r in base_rows:
            by_lang[r.lang].append(r)
        via_pair: dict[tuple[str, str], str] = {}
        for lang, rows in by_lang.items():
            for r in rows:
                if r.pair_id:
                    via_pair.setdefault((lang, r.pair_id), r.id)
        # The reverse direction (zh prompt -> its en translation) is needed to link an English attack
        # prompt that encodes the Chinese original, and vice versa.
        for lang, rows in by_lang.items():
            for r in rows:
                if r.pair_id:
                    for other in by_lang:
                        if other != lang:
                            via_pair.setdefault((other, r.id), r.pair_id)
        return cls({lang: _BaseIndex(rows) for lang, rows in by_lang.items()}, via_pair)

    def _known(self, lang: str, base_id: str) -> bool:
        idx = self.index.get(lang)
        return idx is not None and base_id in idx.by_id

    def direct(self, row: _Row) -> tuple[str, str] | None:
        idx = self.index.get(row.lang)
        if idx is not None:
            i = idx.find(row.prompt, row.risk)
            if i is not None:
                return idx.rows[i].id, "verbatim"
        for decoded in _decodings(row.prompt):
            if idx is not None:
                i = idx.find(decoded, row.risk)
                if i is not None:
                    return idx.rows[i].id, "decoded"
            for other, oidx in self.index.items():
                if other == row.lang:
                    continue
                i = oidx.find(decoded, row.risk)
                if i is None:
                    continue
                mapped = self.via_pair.get((row.lang, oidx.rows[i].id))
                if mapped is not None and self._known(row.lang, mapped):
                    return mapped, "decoded"
        return None


def _propagate_siblings(rows: list[_Row], base_risk: dict[str, str]) -> None:
    """Give unlinked attack prompts the parent their rank-siblings agree on (see module doc)."""
    by_attack: dict[str, list[_Row]] = defaultdict(list)
    for r in rows:
        if r.attack:
            by_attack[r.attack].append(r)
    # Only attacks applied to the same list of base prompts line up: those with the usual count.
    size, _ = Counter(len(g) for g in by_attack.values()).most_common(1)[0] if by_attack else (0, 0)
    aligned = [g for g in by_attack.values() if len(g) == size]
    if len(aligned) < 3:
        return
    ranks: dict[int, list[_Row]] = defaultdict(list)
    for group in aligned:
        for k, r in enumerate(group):
            ranks[k].append(r)
    decided: dict[int, str] = {}
    checked = agreed = 0
    for k, group in ranks.items():
        parents = [r.parent for r in group if r.parent]
        if len(parents) < 2:
            continue
        checked += 1
        if len(set(parents)) == 1:
            agreed += 1
            decided[k] = parents[0]
    if not checked or agreed / checked < SIBLING_MIN_AGREEMENT:
        return
    for k, parent in decided.items():
        for r in ranks[k]:
            if r.parent is None and base_risk.get(parent) == r.risk:
                r.parent, r.link = parent, "sibling"


# --- public ------------------------------------------------------------------------------------------


@dataclass
class SEvalImport:
    # Cases of each input file (keyed by the path as given), in input order.
    by_file: dict[str, list[TestCase]]
    empty_skipped: int = 0
    # attack name -> Counter of link evidence ("verbatim", "decoded", "sibling", "none")
    parent_links: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def cases(self) -> list[TestCase]:
        return [c for cases in self.by_file.values() for c in cases]


def import_s_eval(
    paths: Sequence[str | Path],
    *,
    taxonomy: TaxonomyLike | None = None,
    default_lang: str | None = None,
    link_parents: bool = True,
) -> SEvalImport:
    """Import S-Eval release files (`.jsonl` or `.jsonl.zip`), linking attack prompts to base prompts.

    Every `risk_type` must resolve in the taxonomy (dimension level); an unknown one is an error, not a
    silent skip, so that per-risk scores never miss prompts. `default_lang` applies only to files whose
    name carries no `_zh_`/`_en_`; without it the language is detected from the text.
    """
    tax = taxonomy if taxonomy is not None else load_default_taxonomy()
    resolver = RiskResolver(tax)
    file_groups: dict[str, list[list[_Row]]] = {}
    groups: list[list[_Row]] = []
    empty = 0
    for p in paths:
        path = Path(p)
        mine = file_groups.setdefault(str(path), [])
        for src in iter_jsonl_sources(path):
            rows, skipped = _parse_source(src, resolver, default_lang)
            empty += skipped
            mine.append(rows)
            groups.append(rows)

    links: dict[str, Counter[str]] = {}
    if link_parents:
        base_rows = [r for g in groups for r in g if r.attack is None]
        attack_groups = [g for g in groups if any(r.attack for r in g)]
        if base_rows and attack_groups:
            linker = _Linker.build(base_rows)
            base_risk = {r.id: r.risk for r in base_rows}
            for g in attack_groups:
                for r in g:
                    if r.attack:
                        found = linker.direct(r)
                        if found is not None:
                            r.parent, r.link = found
                _propagate_siblings(g, base_risk)
        for g in attack_groups:
            for r in g:
                if r.attack:
                    links.setdefault(r.attack, Counter())[r.link or "none"] += 1

    by_file: dict[str, list[TestCase]] = {}
    for key, file_rows in file_groups.items():
        by_file[key] = [_to_case(r) for g in file_rows for r in g]
    return SEvalImport(by_file=by_file, empty_skipped=empty, parent_links=links)


def _to_case(r: _Row) -> TestCase:
    meta: dict[str, Any] = {"source_file": r.source, "risk_type": r.risk_type}
    if r.set_name:
        meta["set"] = r.set_name
    if r.link:
        meta["link"] = r.link
    return TestCase(
        id=r.id,
        lang=r.lang,
        risk=r.risk,
        prompt=r.prompt,
        origin=ORIGIN_PREFIX + r.model,
        parent_id=r.parent,
        attack=r.attack,
        pair_id=r.pair_id,
        meta=meta,
    )
