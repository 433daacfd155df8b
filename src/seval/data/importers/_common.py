"""Pieces shared by the importers: language detection, risk resolution, import statistics."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from seval.errors import DataError

if TYPE_CHECKING:
    from seval.records import RiskNode, TestCase

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")

# Share of CJK characters among CJK + Latin letters above which a text counts as Chinese. Chinese
# prompts often carry Latin product names, code or Base64; English prompts rarely carry CJK, so the bar
# is low.
CJK_SHARE_ZH = 0.2
# Only the start of a text is looked at: enough to decide, and long attack prompts stay cheap.
DETECT_CHARS = 2000


class TaxonomyLike(Protocol):
    """What the importers need of a taxonomy (seval.taxonomy.Taxonomy has it)."""

    def resolve(self, label: str) -> RiskNode: ...

    def try_resolve(self, label: str) -> RiskNode | None: ...


def cjk_latin_counts(text: str) -> tuple[int, int]:
    head = text[:DETECT_CHARS]
    return len(_CJK.findall(head)), len(_LATIN.findall(head))


def lang_from_counts(cjk: int, latin: int) -> str:
    total = cjk + latin
    return "zh" if total and cjk / total >= CJK_SHARE_ZH else "en"


def detect_lang(text: str) -> str:
    """`zh` or `en` from the share of CJK characters; seval only ships these two languages."""
    return lang_from_counts(*cjk_latin_counts(text))


_LANG_ALIASES = {
    "zh": "zh",
    "cn": "zh",
    "chinese": "zh",
    "中文": "zh",
    "汉语": "zh",
    "en": "en",
    "english": "en",
    "英文": "en",
    "英语": "en",
}


def normalize_lang(value: str) -> str:
    """Accept the spellings datasets use (`zh-CN`, `Chinese`, `EN`) and return a short code."""
    v = value.strip().lower().replace("_", "-")
    if v in _LANG_ALIASES:
        return _LANG_ALIASES[v]
    head = v.split("-", 1)[0]
    return _LANG_ALIASES.get(head, head)


def load_default_taxonomy() -> TaxonomyLike:
    from seval.taxonomy import load_taxonomy

    tax: TaxonomyLike = load_taxonomy()
    return tax


class RiskResolver:
    """Resolve risk labels once per distinct label; datasets repeat a handful of labels many times."""

    def __init__(self, taxonomy: TaxonomyLike) -> None:
        self.taxonomy = taxonomy
        self._cache: dict[str, str | None] = {}

    def get(self, label: str) -> str | None:
        """The risk id for a label, or None when the taxonomy does not know it."""
        try:
            return self._cache[label]
        except KeyError:
            node = self.taxonomy.try_resolve(label.strip()) if label.strip() else None
            rid = node.id if node is not None else None
            self._cache[label] = rid
            return rid

    def require(self, label: str, where: str) -> str:
        rid = self.get(label)
        if rid is None:
            raise DataError(f"{where}: unknown risk label {label!r}", hint=UNKNOWN_RISK_HINT)
        return rid


UNKNOWN_RISK_HINT = (
    "use a risk id, alias, English or Chinese name from `seval taxonomy`, "
    "or map the labels in a --file-taxonomy YAML"
)


def unknown_labels_error(
    where: str, unknown: dict[str, int], what: str = "risk label", *, context: str = "", unit: str = "line"
) -> DataError:
    """One error for all unknown labels of a file, so the user fixes them in one pass.

    `unknown` maps each label to the first line (or row) it was seen on; the first 10 are listed.
    """
    items = list(unknown.items())
    shown = ", ".join(f"{label!r} ({unit} {line})" for label, line in items[:10])
    more = f" and {len(items) - 10} more" if len(items) > 10 else ""
    plural = "s" if len(items) > 1 else ""
    return DataError(
        f"{where}: {len(items)} unknown {what}{plural}{context}: {shown}{more}", hint=UNKNOWN_RISK_HINT
    )


@dataclass
class ImportResult:
    """The cases of one import call and the numbers a person checks before running them."""

    cases: list[TestCase] = field(default_factory=list)
    # Cases kept per input file (after duplicate ids were dropped), in input order.
    per_file: dict[str, int] = field(default_factory=dict)
    duplicates_dropped: int = 0
    empty_skipped: int = 0
    # Attack name -> attack prompts whose base prompt was found, and by which evidence.
    parent_links: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def by_lang(self) -> Counter[str]:
        return Counter(c.lang for c in self.cases)

    @property
    def by_risk(self) -> Counter[str]:
        return Counter(c.risk for c in self.cases)

    @property
    def by_lang_risk(self) -> Counter[tuple[str, str]]:
        return Counter((c.lang, c.risk) for c in self.cases)

    @property
    def attacks(self) -> Counter[str]:
        return Counter(c.attack for c in self.cases if c.attack)

    @property
    def linked_parents(self) -> int:
        return sum(1 for c in self.cases if c.attack and c.parent_id)
