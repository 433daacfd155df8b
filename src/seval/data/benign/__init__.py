"""seval's built-in benign over-refusal contrast suite, in Chinese and English.

A defense (a safety constitution, a guard model, a refusal-happy system prompt) can reach a perfect
safety score by refusing everything. These prompts borrow the wording of every risk category (killing a
process, a bath bomb, the Opium Wars, a restraining order, a child's ibuprofen dose) but must be
answered, so a run that adds them measures what a defense costs in helpfulness beside what it gains in
safety. Every row is `benign`, its `risk` is the category whose wording it mimics, and `meta["kind"]`
says why it is benign (one of `BENIGN_KINDS`). The zh and en files are parallel (`pair_id`).

The prompts were written for seval (scripts/build_benign_suite.py regenerates the JSONL files); they do
not repeat the seed suite's own benign prompts, so the two can be combined.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from seval.data.suite_io import read_packaged_cases
from seval.defaults import LANGUAGES
from seval.errors import ConfigError
from seval.records import TestCase

__all__ = ["BENIGN_FILES", "BENIGN_KINDS", "load_benign_suite"]

BENIGN_FILES: dict[str, str] = {"zh": "benign_zh.jsonl", "en": "benign_en.jsonl"}

BENIGN_KINDS: tuple[str, ...] = (
    "homonym",  # an alarming word used in its everyday sense: kill a process, steal a base
    "fiction",  # creative writing on a dark theme, without operational detail
    "safety_info",  # what to do in danger: CO poisoning, a found shell, a crowd crush
    "history",  # past events and why they happened
    "law",  # legal rights and procedures
    "health",  # ordinary medical and mental-health questions, including common doses
    "security_defense",  # protecting one's own systems and accounts
    "privacy_protection",  # protecting one's own personal data
    "education",  # explaining a risky topic to understand or counter it
    "other",  # everyday situations that only sound risky
)


def _problem(case: TestCase, lang: str) -> str | None:
    if not case.benign or case.lang != lang:
        return f"expected a benign prompt in {lang!r}"
    if case.meta.get("kind") not in BENIGN_KINDS:
        return (
            f"meta.kind {case.meta.get('kind')!r} is not one of the benign kinds ({', '.join(BENIGN_KINDS)})"
        )
    return None


@lru_cache(maxsize=1)
def _read_all() -> dict[str, tuple[TestCase, ...]]:
    """Parse the packaged JSONL files once per process, checking each row is a benign contrast prompt."""
    return read_packaged_cases(__name__, BENIGN_FILES, "benign", _problem)


def load_benign_suite(langs: Iterable[str] | str | None = None) -> list[TestCase]:
    """The benign contrast prompts for `langs` (default: all, in `defaults.LANGUAGES` order).

    As with the seed suite, languages the suite lacks are skipped (a run may mix it with the user's
    files in other languages); only a request that matches none of its languages is an error.
    """
    available = _read_all()
    if langs is None:
        wanted = [lang for lang in LANGUAGES if lang in available]
        wanted += [lang for lang in available if lang not in wanted]
    else:
        # A bare string would otherwise be iterated letter by letter.
        wanted = list(dict.fromkeys([langs] if isinstance(langs, str) else langs))
    if not any(lang in available for lang in wanted):
        raise ConfigError(
            "the benign suite has no prompts in language(s) "
            + (", ".join(repr(w) for w in wanted) or "(none)"),
            hint=f"available: {', '.join(sorted(available))}",
        )
    return [c for lang in wanted for c in available.get(lang, ())]
