"""Safety constitutions: short, per-risk principles that a defended model is given, as data.

S-Eval's constitutional defense constrains a model without touching its weights, and it differentiates
the constraints by risk instead of using one blanket "be safe" prompt: a question routed to drug crimes
gets the drug principles, a question about a Python process gets only the general ones. Each principle
says what to decline *and* what remains fine to help with, because the defense is also judged on
over-refusal: a constitution that turns the model into a refuser has failed.

The principles live in YAML (`constitutions/general.yaml` plus one file per risk dimension), in English
and Chinese, written for seval. `load_constitutions(overrides=[...])` merges user files in the same
format over them:

    version: 1
    constitutions:
      - risk: ci.drug_crimes          # a taxonomy id (any level), or "general"
        mode: extend                  # extend (default): add to the risk's principles; replace: swap them
        principles:
          - en: ...                   # a user file may give one language only; see Principle.text
            zh: ...
            id: my-org/no-dosing      # optional; default "<risk>/<n>"
        revise_hint: {en: ..., zh: ...}

An entry may name a node that a user taxonomy override added (pass that taxonomy). `replace` with an
empty list switches a risk's principles off. Built-in files must give both languages for every text.
Errors name the file and the entry, because the person who has to fix them is editing YAML.

A run records `ConstitutionLibrary.version_hash`, a digest of every principle and hint, so results are
never mixed across constitution texts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from seval.errors import ConfigError, DataError, UnknownNameError
from seval.records import stable_hash
from seval.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "GENERAL",
    "Constitution",
    "ConstitutionLibrary",
    "LocalizedText",
    "Principle",
    "load_constitutions",
]

GENERAL = "general"
"""The pseudo risk id of the constitution that applies to every prompt."""

BUILTIN_DIR = "constitutions"
Lang = Literal["en", "zh"]
Mode = Literal["extend", "replace"]

_TOP_LEVEL_KEYS = frozenset({"version", "description", "constitutions"})
_ENTRY_KEYS = frozenset({"risk", "mode", "principles", "revise_hint"})
_PRINCIPLE_KEYS = frozenset({"id", "en", "zh"})
_TEXT_KEYS = frozenset({"en", "zh"})
_SUPPORTED_VERSIONS = frozenset({1})

# One-line headings of the block that `ConstitutionLibrary.text` puts in a system prompt. They remind
# the model that the principles bound harm, not helpfulness.
_HEADINGS: dict[Lang, str] = {
    "en": "Safety principles for this conversation (follow them, and help fully with everything they allow):",
    "zh": "本次对话的安全原则（请遵守；原则允许的内容，尽量充分地帮助用户）：",
}


def lang_key(lang: str) -> Lang:
    """Map a language tag to the key of its text: any `zh*` tag is Chinese, everything else English.

    Lenient like `Taxonomy.display_name`, because suites may tag prompts `zh-CN` or `en-US`, and an
    English constitution is the best a model can be given for a language the library lacks.
    """
    return "zh" if lang.strip().lower().startswith("zh") else "en"


class LocalizedText(BaseModel):
    """A text in English and/or Chinese; at least one is given, neither is blank."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    en: str | None = None
    zh: str | None = None

    @field_validator("en", "zh")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = " ".join(v.split()) if not _has_cjk(v) else v.strip()
        if not v:
            raise ValueError("text must not be empty")
        return v

    @model_validator(mode="after")
    def _one_language(self) -> LocalizedText:
        if self.en is None and self.zh is None:
            raise ValueError("give the text in at least one language ('en' or 'zh')")
        return self

    def text(self, lang: str) -> str:
        """The text in `lang`, or in the other language when only that one was given.

        A user file may write a principle in one language only; a model prompted in the other language
        then still gets the principle, which is better than silently dropping it.
        """
        key = lang_key(lang)
        primary, other = (self.zh, self.en) if key == "zh" else (self.en, self.zh)
        return primary if primary is not None else other or ""

    def has(self, lang: str) -> bool:
        """Whether the text was given in `lang` itself (not by fallback)."""
        return (self.zh if lang_key(lang) == "zh" else self.en) is not None


class Principle(LocalizedText):
    """One principle of a constitution, with a stable id (`<risk>/<n>` unless the file names one).

    The id lets a critic or a report say which principle an answer broke, and lets user files and
    de-duplication refer to a principle across languages.
    """

    id: str

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not v or any(c.isspace() for c in v):
            raise ValueError("principle id must be non-empty and contain no whitespace")
        return v


class Constitution(BaseModel):
    """The principles and the revision hint of one risk (a taxonomy id, or `general`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    risk: str
    principles: tuple[Principle, ...] = ()
    # How a critic should rewrite an answer that broke these principles (keep what, remove what).
    revise_hint: LocalizedText | None = None


class ConstitutionLibrary:
    """All constitutions of a run, looked up by risk through the taxonomy.

    Build one with `load_constitutions()`. The library is immutable; `version_hash` identifies its text.
    """

    def __init__(self, constitutions: Iterable[Constitution], taxonomy: Taxonomy) -> None:
        by_risk: dict[str, Constitution] = {}
        for c in constitutions:
            if c.risk in by_risk:
                raise ConfigError(f"constitutions: two constitutions for risk {c.risk!r}")
            if c.risk != GENERAL and c.risk not in taxonomy:
                raise ConfigError(f"constitutions: risk {c.risk!r} is not in taxonomy {taxonomy.version!r}")
            by_risk[c.risk] = c
        rank = {n.id: i for i, n in enumerate(taxonomy)}
        ordered = sorted(by_risk.values(), key=lambda c: -1 if c.risk == GENERAL else rank[c.risk])
        self._by_risk = {c.risk: c for c in ordered}
        self._taxonomy = taxonomy
        self.version_hash: str = stable_hash([c.model_dump(mode="json") for c in ordered], 16)
        """A digest of every principle and hint; record it with results produced under this library."""

    # --- collection protocol ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_risk)

    def __iter__(self) -> Iterator[Constitution]:
        return iter(self._by_risk.values())

    def __contains__(self, risk: object) -> bool:
        return isinstance(risk, str) and risk in self._by_risk

    def __repr__(self) -> str:
        return f"ConstitutionLibrary({len(self)} risks, {self.version_hash})"

    @property
    def taxonomy(self) -> Taxonomy:
        return self._taxonomy

    def risks(self) -> list[str]:
        """Risk ids that have a constitution: `general` first, then in taxonomy order."""
        return list(self._by_risk)

    def get(self, risk: str) -> Constitution | None:
        """The constitution of exactly this risk id (no ancestors), or None."""
        return self._by_risk.get(risk)

    # --- lookups ------------------------------------------------------------------------------------
    def _chain(self, risk_ids: Iterable[str] | str, strict: bool) -> list[str]:
        """`general`, then for each risk its dimension, category, ... down to the node, de-duplicated."""
        labels = [risk_ids] if isinstance(risk_ids, str) else list(risk_ids)
        chain = [GENERAL]
        for label in labels:
            if label == GENERAL:
                continue
            node = self._taxonomy.resolve(label) if strict else self._taxonomy.try_resolve(label)
            if node is None:
                continue
            chain += [a.id for a in self._taxonomy.ancestors(node.id)] + [node.id]
        return list(dict.fromkeys(chain))

    def for_risks(
        self, risk_ids: Iterable[str] | str, lang: str = "en", *, strict: bool = True
    ) -> list[Principle]:
        """The principles that apply to a prompt with these risks, in the order to show them.

        General principles come first; then, for each risk in the order given, the principles of its
        dimension, category and finer levels down to the risk itself (broad to specific). A principle
        reached twice (shared ancestors, repeated risks) or whose text in `lang` repeats an earlier one
        appears once. Risks may be ids or any label the taxonomy resolves; an unknown one raises
        `UnknownNameError`, or is skipped with `strict=False` (the general principles still apply),
        which suits a router that may emit labels outside the taxonomy.

        Every returned principle has text in `lang`: one given only in the other language (a user file
        may do that) comes back with that text copied into `lang`.
        """
        key = lang_key(lang)
        out: list[Principle] = []
        seen_ids: set[str] = set()
        seen_texts: set[str] = set()
        for risk in self._chain(risk_ids, strict):
            constitution = self._by_risk.get(risk)
            if constitution is None:
                continue
            for p in constitution.principles:
                text = p.text(key)
                if p.id in seen_ids or text in seen_texts:
                    continue
                seen_ids.add(p.id)
                seen_texts.add(text)
                out.append(p if p.has(key) else p.model_copy(update={key: text}))
        return out

    def text(self, risk_ids: Iterable[str] | str, lang: str = "en", *, strict: bool = True) -> str:
        """A numbered block of `for_risks(risk_ids, lang)` under a one-line heading, for a system prompt.

        Empty when no principle applies (e.g. every constitution was replaced by an empty list), so a
        caller can skip the system prompt altogether.
        """
        principles = self.for_risks(risk_ids, lang, strict=strict)
        if not principles:
            return ""
        key = lang_key(lang)
        lines = [_HEADINGS[key]] + [f"{i}. {p.text(key)}" for i, p in enumerate(principles, start=1)]
        return "\n".join(lines)

    def revise_hint(self, risk_id: str, lang: str = "en", *, strict: bool = True) -> str:
        """How to rewrite an answer that violates the principles of `risk_id`, in `lang`.

        The most specific hint wins: the risk's own, else its nearest ancestor's, else the general one;
        "" when none is set (or the risk is unknown and `strict=False`).
        """
        chain = self._chain(risk_id, strict)
        for risk in reversed(chain):
            constitution = self._by_risk.get(risk)
            if constitution is not None and constitution.revise_hint is not None:
                return constitution.revise_hint.text(lang)
        return ""


# --- loading ---------------------------------------------------------------------------------------


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


class _Draft:
    """A risk's principles and hint while files are merged, with where each principle came from."""

    def __init__(self) -> None:
        self.principles: list[Principle] = []
        self.hint: dict[str, str] = {}


def _yaml_load(source: str, text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        detail = problem or " ".join(str(exc).split())
        raise ConfigError(f"{source}: malformed YAML{at}: {detail}") from exc


def _parse(source: str, text: str) -> list[Mapping[str, Any]]:
    """Check the shape of one constitution file; return its entries."""
    doc = _yaml_load(source, text)
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{source}: expected a mapping with a 'constitutions:' list at the top level")
    unknown = sorted(str(k) for k in doc if k not in _TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown top-level key(s) {', '.join(repr(k) for k in unknown)}",
            hint=f"allowed: {', '.join(sorted(_TOP_LEVEL_KEYS))}",
        )
    version = doc.get("version", 1)
    if version not in _SUPPORTED_VERSIONS:
        raise ConfigError(f"{source}: unsupported version {version!r}", hint="this seval reads version 1")
    entries = doc.get("constitutions")
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: 'constitutions' must be a list of entries")
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{source}: entry {i}: expected a mapping, got {type(entry).__name__}")
    return entries


def _suggest(risk: str, taxonomy: Taxonomy) -> str:
    """A hint for an unknown risk id: the node its label resolves to, else the closest ids."""
    node = taxonomy.try_resolve(risk)
    if node is not None:
        return f"did you mean {node.id!r}? entries name risks by id"
    close = difflib.get_close_matches(risk, [GENERAL, *(n.id for n in taxonomy)], n=3, cutoff=0.6)
    if close:
        return f"did you mean {', '.join(repr(c) for c in close)}?"
    try:
        taxonomy.resolve(risk)
    except UnknownNameError as exc:
        if exc.hint and exc.hint.startswith("did you mean"):
            return exc.hint
    return "see `seval taxonomy` for the risk ids, or use 'general'"


def _texts(where: str, raw: Any, allowed: frozenset[str], builtin: bool) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping with 'en' and/or 'zh', got {type(raw).__name__}")
    bad = sorted(str(k) for k in raw if k not in allowed)
    if bad:
        raise ConfigError(
            f"{where}: unknown field(s) {', '.join(repr(b) for b in bad)}",
            hint=f"allowed: {', '.join(sorted(allowed))}",
        )
    data = dict(raw)
    for key in _TEXT_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {key!r} must be non-empty text")
    if builtin and any(data.get(k) is None for k in _TEXT_KEYS):
        raise ConfigError(f"{where}: built-in texts must give both 'en' and 'zh'")
    if all(data.get(k) is None for k in _TEXT_KEYS):
        raise ConfigError(f"{where}: give the text in at least one language ('en' or 'zh')")
    return data


def _validated(where: str, model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc


def _apply(
    source: str,
    entries: list[Mapping[str, Any]],
    drafts: dict[str, _Draft],
    owners: dict[str, str],
    taxonomy: Taxonomy,
    builtin: bool,
) -> None:
    """Merge one file's entries into `drafts` (risk -> draft), in place; `owners` maps principle ids to
    the entry that defined them, for duplicate-id errors that name both places."""
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        risk = entry.get("risk")
        if not isinstance(risk, str) or not risk:
            raise ConfigError(f"{source}: entry {i}: missing required field 'risk'")
        where = f"{source}: entry {i} ({risk!r})"
        bad = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
        if bad:
            raise ConfigError(
                f"{where}: unknown field(s) {', '.join(repr(b) for b in bad)}",
                hint=f"allowed: {', '.join(sorted(_ENTRY_KEYS))}",
            )
        if risk != GENERAL and risk not in taxonomy:
            raise ConfigError(f"{where}: unknown risk id {risk!r}", hint=_suggest(risk, taxonomy))
        if risk in seen:
            raise ConfigError(f"{where}: risk {risk!r} appears twice in this file; merge the entries")
        seen.add(risk)
        mode = entry.get("mode", "extend")
        if mode not in ("extend", "replace"):
            raise ConfigError(f"{where}: mode must be 'extend' or 'replace', not {mode!r}")
        if builtin and (risk in drafts or "mode" in entry):
            raise ConfigError(f"{where}: built-in constitutions give each risk once, without 'mode'")
        raw_principles = entry.get("principles", [])
        if raw_principles is None:
            raw_principles = []
        if not isinstance(raw_principles, list):
            raise ConfigError(f"{where}: 'principles' must be a list")
        if "principles" not in entry and "revise_hint" not in entry:
            raise ConfigError(f"{where}: give 'principles', 'revise_hint' or both")

        draft = drafts.setdefault(risk, _Draft())
        if mode == "replace":
            for old in draft.principles:
                owners.pop(old.id, None)
            draft.principles = []
        base = len(draft.principles)
        taken = {p.id for p in draft.principles}
        for j, raw in enumerate(raw_principles, start=1):
            pwhere = f"{where}: principle {j}"
            data = _texts(pwhere, raw, _PRINCIPLE_KEYS, builtin)
            if "id" not in data or data["id"] is None:
                n = base + j
                while f"{risk}/{n}" in taken or f"{risk}/{n}" in owners:
                    n += 1
                data["id"] = f"{risk}/{n}"
            elif not isinstance(data["id"], str):
                raise ConfigError(f"{pwhere}: 'id' must be text")
            principle: Principle = _validated(pwhere, Principle, data)
            if principle.id in owners:
                raise ConfigError(
                    f"{pwhere}: duplicate principle id {principle.id!r}",
                    hint=f"already defined by {owners[principle.id]}",
                )
            owners[principle.id] = pwhere
            taken.add(principle.id)
            draft.principles.append(principle)

        if "revise_hint" in entry:
            hwhere = f"{where}: revise_hint"
            hint = _texts(hwhere, entry["revise_hint"], _TEXT_KEYS, builtin)
            _validated(hwhere, LocalizedText, hint)
            given = {k: v for k, v in hint.items() if v is not None}
            # replace swaps the hint whole; extend updates only the languages the file gives.
            draft.hint = given if mode == "replace" else {**draft.hint, **given}


def _builtin_dir() -> Any:
    return resources.files("seval.defense").joinpath(BUILTIN_DIR)


@lru_cache(maxsize=1)
def _builtin_sources() -> tuple[tuple[str, str], ...]:
    """The packaged files as (name, text): general.yaml first, then the rest by name."""
    files = [f for f in _builtin_dir().iterdir() if f.name.endswith(".yaml")]
    files.sort(key=lambda f: (f.name != f"{GENERAL}.yaml", f.name))
    return tuple((f"{BUILTIN_DIR}/{f.name}", f.read_text(encoding="utf-8")) for f in files)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: constitution file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read constitution file: {exc}") from exc


@lru_cache(maxsize=16)
def _load(overrides: tuple[tuple[str, str], ...], taxonomy: Taxonomy) -> ConstitutionLibrary:
    drafts: dict[str, _Draft] = {}
    owners: dict[str, str] = {}
    for source, text in _builtin_sources():
        _apply(source, _parse(source, text), drafts, owners, taxonomy, builtin=True)
    for source, text in overrides:
        _apply(source, _parse(source, text), drafts, owners, taxonomy, builtin=False)
    constitutions = [
        Constitution(
            risk=risk,
            principles=tuple(d.principles),
            revise_hint=LocalizedText(**d.hint) if d.hint else None,
        )
        for risk, d in drafts.items()
    ]
    return ConstitutionLibrary(constitutions, taxonomy)


def load_constitutions(
    overrides: Iterable[str | Path] | str | Path = (),
    taxonomy: Taxonomy | None = None,
) -> ConstitutionLibrary:
    """The built-in constitutions, with user files merged over them in order.

    `taxonomy` defaults to the built-in one; pass the run's taxonomy (with its overrides) so that user
    files can give constitutions to the nodes it adds. Results are cached by file content and taxonomy,
    so every stage may call this freely and an edited file is picked up.
    """
    tax = taxonomy if taxonomy is not None else load_taxonomy()
    paths = [Path(overrides)] if isinstance(overrides, str | Path) else [Path(p) for p in overrides]
    return _load(tuple((str(p), _read(p)) for p in paths), tax)
