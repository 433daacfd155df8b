"""Load the risk taxonomy from YAML, merge user overrides, and answer questions about the tree.

The taxonomy is data, not code, so that users can rename, describe or extend risks (their own finer
levels, their own dimensions) without touching seval: `load_taxonomy(overrides=[...])` merges their
files over the built-in S-Eval tree. Every other stage (generation, critique tags, metrics roll-ups)
asks a `Taxonomy` instead of hard-coding risk names, so a label from any source, be it an id, S-Eval's
`risk_type`, an English or a Chinese name, resolves to one node.

Override files use the built-in format (a top-level mapping with a `nodes:` list). An entry whose id
exists updates only the fields it names; an entry with a new id adds a node under an existing parent.
Errors name the file and the entry, because a user editing YAML needs to know which line to fix.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from seval.errors import ConfigError, DataError, UnknownNameError
from seval.records import RiskNode

__all__ = ["BUILTIN_FILE", "Taxonomy", "load_taxonomy", "normalize_label"]

BUILTIN_FILE = "s_eval.yaml"

_NODE_FIELDS: frozenset[str] = frozenset(RiskNode.model_fields)
_TOP_LEVEL_KEYS = frozenset({"version", "name", "description", "nodes"})
# Fields a brand-new node must give; `parent` must be present too (null makes a new dimension).
_REQUIRED_NEW = ("name_en", "name_zh")
# Lowercase, dot-separated segments: ids are stable keys in run stores, so keep them boring.
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]*(\.[a-z0-9][a-z0-9_\-]*)*$")
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_label(label: str) -> str:
    """Fold a label for lookup: case-insensitive, and spaces, underscores and hyphens are equivalent.

    This lets `Crimes_and_Illegal_Activities`, `crimes and illegal activities` and
    `Crimes-and-Illegal-Activities` all find the same node.
    """
    return _SEPARATORS.sub("_", label.strip().casefold()).strip("_")


class Taxonomy:
    """An immutable risk tree with lookups by id and by any known label.

    Build one with `load_taxonomy()`; the constructor is public for tests and for callers that assemble
    nodes themselves, and it re-checks that the nodes form a consistent tree.
    """

    def __init__(self, nodes: Iterable[RiskNode], *, version: str = "custom", name: str = "custom") -> None:
        given = list(nodes)
        by_id: dict[str, RiskNode] = {}
        for node in given:
            if node.id in by_id:
                raise ConfigError(f"taxonomy: duplicate node id {node.id!r}")
            by_id[node.id] = node
        children: dict[str | None, list[str]] = {}
        for node in given:
            if node.parent is None:
                if node.level != 1:
                    raise ConfigError(f"taxonomy: node {node.id!r} has no parent but level {node.level}")
            else:
                parent = by_id.get(node.parent)
                if parent is None:
                    raise ConfigError(f"taxonomy: node {node.id!r}: parent {node.parent!r} does not exist")
                if node.level != parent.level + 1:
                    raise ConfigError(
                        f"taxonomy: node {node.id!r}: level {node.level} does not match parent "
                        f"{parent.id!r} (level {parent.level})"
                    )
            children.setdefault(node.parent, []).append(node.id)

        # Depth-first, file order: the order a reader expects in a printed tree and in reports.
        ordered: list[RiskNode] = []

        def walk(node_id: str) -> None:
            ordered.append(by_id[node_id])
            for child in children.get(node_id, []):
                walk(child)

        for root in children.get(None, []):
            walk(root)

        self._nodes: tuple[RiskNode, ...] = tuple(ordered)
        self._by_id = by_id
        self._children: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in children.items() if k}
        self.version = version
        self.name = name
        self._index, self._ambiguous = _build_index(self._nodes)

    # --- collection protocol ------------------------------------------------------------------------
    @property
    def nodes(self) -> list[RiskNode]:
        """All nodes in tree order (depth-first, in file order); a fresh list each call."""
        return list(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[RiskNode]:
        return iter(self._nodes)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and item in self._by_id

    def __repr__(self) -> str:
        return f"Taxonomy({self.version!r}, {len(self)} nodes)"

    # --- lookups ------------------------------------------------------------------------------------
    def get(self, node_id: str) -> RiskNode:
        """The node with exactly this id; `UnknownNameError` (with a close match) otherwise."""
        node = self._by_id.get(node_id)
        if node is None:
            close = difflib.get_close_matches(node_id, list(self._by_id), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "see `seval taxonomy`"
            raise UnknownNameError(f"unknown risk id {node_id!r}", hint=hint)
        return node

    def try_resolve(self, label: str) -> RiskNode | None:
        """Like `resolve`, but None when nothing (or more than one node) matches."""
        key = normalize_label(label)
        for tier, index in enumerate(self._index):
            if key in index:
                if (tier, key) in self._ambiguous:
                    return None
                return self._by_id[index[key]]
        return None

    def resolve(self, label: str) -> RiskNode:
        """The node whose id, alias, English or Chinese name matches `label`.

        Matching ignores case and treats spaces, underscores and hyphens alike. Ids win over aliases,
        aliases over English names, English names over Chinese names, so an override that adds an
        alias can never hide a node's id.
        """
        key = normalize_label(label)
        for tier, index in enumerate(self._index):
            if key in index:
                if (tier, key) in self._ambiguous:
                    raise UnknownNameError(
                        f"ambiguous risk label {label!r}",
                        hint=f"it matches {', '.join(repr(i) for i in self._ambiguous[(tier, key)])}; "
                        "use an id",
                    )
                return self._by_id[index[key]]
        labels = {k: v for index in self._index for k, v in index.items()}
        close = difflib.get_close_matches(key, list(labels), n=3, cutoff=0.6)
        suggestions = list(dict.fromkeys(labels[c] for c in close))
        hint = (
            f"did you mean {', '.join(repr(s) for s in suggestions)}?"
            if suggestions
            else "see `seval taxonomy` for the known risks"
        )
        raise UnknownNameError(f"unknown risk {label!r}", hint=hint)

    # --- structure ----------------------------------------------------------------------------------
    def children(self, node_id: str) -> list[RiskNode]:
        """Direct children, in file order."""
        self.get(node_id)
        return [self._by_id[c] for c in self._children.get(node_id, ())]

    def descendants(self, node_id: str) -> list[RiskNode]:
        """Every node below `node_id`, depth-first (for rolling metrics up a subtree)."""
        out: list[RiskNode] = []
        stack = list(reversed(self._children.get(self.get(node_id).id, ())))
        while stack:
            node = self._by_id[stack.pop()]
            out.append(node)
            stack.extend(reversed(self._children.get(node.id, ())))
        return out

    def ancestors(self, node_id: str) -> list[RiskNode]:
        """The chain of parents above `node_id`, root first; empty for a dimension."""
        chain: list[RiskNode] = []
        node = self.get(node_id)
        while node.parent is not None:
            node = self._by_id[node.parent]
            chain.append(node)
        chain.reverse()
        return chain

    def dimension_of(self, node_id: str) -> RiskNode:
        """The level-1 ancestor (the node itself for a dimension)."""
        node = self.get(node_id)
        return node if node.level == 1 else self.ancestors(node_id)[0]

    def category_of(self, node_id: str) -> RiskNode | None:
        """The level-2 ancestor (the node itself for a category); None for a dimension."""
        node = self.get(node_id)
        if node.level == 1:
            return None
        return node if node.level == 2 else self.ancestors(node_id)[1]

    def dimensions(self) -> list[RiskNode]:
        return [n for n in self._nodes if n.level == 1]

    def categories(self) -> list[RiskNode]:
        return [n for n in self._nodes if n.level == 2]

    def display_name(self, node_id: str, lang: str = "en") -> str:
        """The node's name in `lang` ("zh" gives the Chinese name, anything else English)."""
        node = self.get(node_id)
        return node.name_zh if lang.lower().startswith("zh") else node.name_en


def _build_index(
    nodes: tuple[RiskNode, ...],
) -> tuple[list[dict[str, str]], dict[tuple[int, str], list[str]]]:
    """Label lookup tables by priority tier (id, alias, English name, Chinese name).

    A label that two nodes share within one tier is recorded as ambiguous rather than silently given to
    whichever node came first.
    """
    tiers: list[dict[str, str]] = [{}, {}, {}, {}]
    ambiguous: dict[tuple[int, str], list[str]] = {}
    for node in nodes:
        labels: list[tuple[int, str]] = [(0, node.id)]
        labels += [(1, a) for a in node.aliases]
        labels += [(2, node.name_en), (3, node.name_zh)]
        for tier, label in labels:
            key = normalize_label(label)
            if not key:
                continue
            owner = tiers[tier].setdefault(key, node.id)
            if owner != node.id:
                holders = ambiguous.setdefault((tier, key), [owner])
                if node.id not in holders:
                    holders.append(node.id)
    return tiers, ambiguous


# --- parsing and merging ---------------------------------------------------------------------------


def _parse(source: str, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check the shape of one taxonomy file; return its header and its node entries."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        detail = problem or " ".join(str(exc).split())
        raise ConfigError(f"{source}: malformed YAML{at}: {detail}") from exc
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{source}: expected a mapping with a 'nodes:' list at the top level")
    unknown = sorted(str(k) for k in doc if k not in _TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"{source}: unknown top-level key(s) {', '.join(repr(k) for k in unknown)}",
            hint=f"allowed: {', '.join(sorted(_TOP_LEVEL_KEYS))}",
        )
    entries = doc.get("nodes")
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: 'nodes' must be a list of node entries")
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{source}: node {i}: expected a mapping of fields, got {type(entry).__name__}")
        node_id = entry.get("id")
        if not isinstance(node_id, str) or not node_id:
            raise ConfigError(f"{source}: node {i}: missing required field 'id'")
        where = f"{source}: node {i} ({node_id!r})"
        bad = sorted(str(k) for k in entry if k not in _NODE_FIELDS)
        if bad:
            raise ConfigError(
                f"{where}: unknown field(s) {', '.join(repr(b) for b in bad)}",
                hint=f"allowed: {', '.join(sorted(_NODE_FIELDS))}",
            )
        if node_id in seen:
            raise ConfigError(f"{where}: duplicate id {node_id!r} in this file")
        seen.add(node_id)
        out.append(dict(entry))
    return {k: v for k, v in doc.items() if k != "nodes"}, out


def _apply(source: str, entries: list[dict[str, Any]], merged: dict[str, RiskNode]) -> None:
    """Merge one file's entries into `merged` (id -> node, insertion-ordered), in place.

    Updates to existing ids apply first, in file order. New nodes are added parent-first, so a file may
    list a child before its new parent; a parent that never appears is an error on the child's entry.
    """
    where = {e["id"]: f"{source}: node {i} ({e['id']!r})" for i, e in enumerate(entries, start=1)}

    def validated(node_id: str, data: dict[str, Any]) -> RiskNode:
        if not _ID_RE.match(node_id):
            raise ConfigError(
                f"{where[node_id]}: id must be lowercase letters, digits, '_' or '-', in dot-separated parts"
            )
        try:
            return RiskNode.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'node'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigError(f"{where[node_id]}: {problems}") from exc

    def check_level(node_id: str, parent_id: str | None, level: Any) -> int:
        if parent_id is None:
            expected = 1
        else:
            parent = merged.get(parent_id)
            if parent is None:
                raise ConfigError(f"{where[node_id]}: parent {parent_id!r} does not exist")
            expected = parent.level + 1
        if level is not None and level != expected:
            about = "no parent" if parent_id is None else f"parent {parent_id!r} at level {expected - 1}"
            raise ConfigError(f"{where[node_id]}: level {level!r} must be {expected} ({about})")
        return expected

    new: list[dict[str, Any]] = []
    for entry in entries:
        node_id = entry["id"]
        old = merged.get(node_id)
        if old is None:
            new.append(entry)
            continue
        data = {**old.model_dump(), **entry}
        if data["level"] != old.level:
            raise ConfigError(
                f"{where[node_id]}: cannot change the level of existing node {node_id!r} "
                f"(it is {old.level}; add a new node instead)"
            )
        if data["parent"] != old.parent:
            # Moving a node is fine as long as it keeps its level, so its subtree stays consistent.
            parent_id = data["parent"]
            if parent_id is not None and not isinstance(parent_id, str):
                raise ConfigError(f"{where[node_id]}: 'parent' must be a node id or null")
            parent = merged.get(parent_id) if parent_id is not None else None
            if parent_id is not None and parent is None:
                raise ConfigError(f"{where[node_id]}: parent {parent_id!r} does not exist")
            new_level = parent.level + 1 if parent is not None else 1
            if new_level != old.level:
                raise ConfigError(
                    f"{where[node_id]}: cannot move {node_id!r} (level {old.level}) "
                    + (f"under {parent_id!r}" if parent_id else "to the top")
                    + ": a moved node must keep its level"
                )
        merged[node_id] = validated(node_id, data)

    pending = new
    while pending:
        waiting: list[dict[str, Any]] = []
        for entry in pending:
            node_id = entry["id"]
            if "parent" not in entry:
                raise ConfigError(
                    f"{where[node_id]}: missing required field 'parent' (use null for a new dimension)"
                )
            parent_id = entry["parent"]
            if parent_id is not None and not isinstance(parent_id, str):
                raise ConfigError(f"{where[node_id]}: 'parent' must be a node id or null")
            if parent_id is not None and parent_id not in merged:
                waiting.append(entry)
                continue
            missing = [f for f in _REQUIRED_NEW if f not in entry]
            if missing:
                raise ConfigError(
                    f"{where[node_id]}: missing required field(s) {', '.join(repr(m) for m in missing)}"
                )
            level = check_level(node_id, parent_id, entry.get("level"))
            merged[node_id] = validated(node_id, {**entry, "level": level})
        if len(waiting) == len(pending):
            first = waiting[0]
            raise ConfigError(f"{where[first['id']]}: parent {first['parent']!r} does not exist")
        pending = waiting


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{path}: taxonomy file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read taxonomy file: {exc}") from exc


def _builtin_text() -> str:
    return resources.files("seval.taxonomy").joinpath("data", BUILTIN_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=16)
def _load(overrides: tuple[tuple[str, str], ...]) -> Taxonomy:
    header, entries = _parse(BUILTIN_FILE, _builtin_text())
    merged: dict[str, RiskNode] = {}
    _apply(BUILTIN_FILE, entries, merged)
    version = f"{header.get('name', 's-eval')}@{header.get('version', 1)}"
    if overrides:
        digest = hashlib.sha256()
        for source, text in overrides:
            _, extra = _parse(source, text)
            _apply(source, extra, merged)
            data = text.encode("utf-8")
            digest.update(len(data).to_bytes(8, "big") + data)
        version += "+" + digest.hexdigest()[:8]
    return Taxonomy(merged.values(), version=version, name=str(header.get("name", "s-eval")))


def load_taxonomy(overrides: Iterable[str | Path] | str | Path | None = None) -> Taxonomy:
    """The built-in S-Eval taxonomy, with user override files merged over it in order.

    Results are cached by file content, so calling this from every stage costs nothing and an edited
    override file is picked up. The version is `s-eval@1`, plus `+<hash>` of the override contents
    when there are any, so results produced under a modified taxonomy are never mistaken for the
    built-in one's.
    """
    if overrides is None:
        paths: list[Path] = []
    elif isinstance(overrides, str | Path):
        paths = [Path(overrides)]
    else:
        paths = [Path(p) for p in overrides]
    return _load(tuple((str(p), _read(p)) for p in paths))
