"""Text folding and tokenisation shared by every selection strategy.

Generated prompts differ from each other in ways that carry no meaning (full-width vs half-width
characters, case, punctuation, runs of spaces, curly vs straight quotes), so every comparison starts from
one folded form. Chinese has no spaces, so it is compared on characters and character n-grams; English
on words (with a light stemmer and without function words) and character n-grams, which survive typos.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "EN_STOPWORDS",
    "char_ngrams",
    "cjk_count",
    "content_words",
    "exact_key",
    "is_cjk",
    "latin_count",
    "normalize",
    "script_counts",
    "stem",
    "words",
]

# Function words and politeness fillers: they differ between paraphrases of one request ("please",
# "could you", "tell me") and say nothing about what is asked, so near-duplicate checks ignore them.
_EN_STOPWORDS_TEXT = """
    a about above after again all also am an and any are as at be because been before being below
    between both but by can could did do does doing done down during each even ever every few for from
    further get gets getting give go going got had has have having he her here hers herself him himself
    his how i if in into is it its itself just kindly let lets like me might mine more most much must my
    myself need no nor not now of off on once only or other our ours out over own please quick quickly
    question really same shall she should so some such tell than thank thanks that the their theirs
    them then there these they this those through to too under until up us very want was way we were
    what when where which while who whom why will with would you your yours yourself hi hey hello sorry
    bother curious curiosity honest exactly explain really simply just wondering advance appreciate
    help"""
EN_STOPWORDS: frozenset[str] = frozenset(_EN_STOPWORDS_TEXT.split())

_APOSTROPHES: dict[int, str | None] = dict.fromkeys(map(ord, "'’‘`´"), None)


@lru_cache(maxsize=1)
def _punct_table() -> dict[int, str | None]:
    """Every punctuation and symbol code point of the Basic Multilingual Plane, mapped to a space."""
    table: dict[int, str | None] = {}
    for cp in range(0x10000):
        cat = unicodedata.category(chr(cp))
        if cat[0] in "PS" or cat in ("Zs", "Cc", "Cf"):
            table[cp] = " "
    table.update(_APOSTROPHES)  # "don't" -> "dont", one word, as the writer meant
    return table


def normalize(text: str) -> str:
    """Fold a prompt to the form comparisons use: NFKC (full-width to half-width), casefold,
    punctuation and symbols to spaces, apostrophes dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_punct_table())
    return " ".join(folded.split())


def exact_key(text: str) -> str:
    """The key of exact-duplicate detection: the folded text without any spaces, so that two prompts
    that differ only in spacing, punctuation, width or case share it."""
    return normalize(text).replace(" ", "")


def is_cjk(ch: str) -> bool:
    """Han ideographs (and the CJK extension A block), the characters a Chinese prompt is made of."""
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0xF900 <= cp <= 0xFAFF


_CJK_RE = re.compile("[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")
_LATIN_RE = re.compile("[A-Za-z]")


def cjk_count(text: str) -> int:
    return len(_CJK_RE.findall(text))


def latin_count(text: str) -> int:
    return len(_LATIN_RE.findall(text))


def script_counts(text: str) -> tuple[int, int]:
    """(CJK characters, Latin letters) in `text`: the evidence of the language check."""
    return cjk_count(text), latin_count(text)


_WORD_RE = re.compile(r"[^\W\d_]+|\d+")
_SUFFIXES = ("ing", "ed", "es", "ly", "s")


def words(norm: str) -> list[str]:
    """Latin-script words and numbers of a folded text (CJK characters are left to `char_ngrams`)."""
    return [w for w in _WORD_RE.findall(norm) if not is_cjk(w[0])]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A deliberately crude English stemmer: one common suffix off words longer than four letters, so
    that "smuggling", "smuggled" and "smuggles" meet, without a dictionary."""
    if len(word) > 4:
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


def content_words(norm: str) -> list[str]:
    """Stemmed words of a folded text without function words and fillers, in order."""
    return [stem(w) for w in words(norm) if w not in EN_STOPWORDS]


def char_ngrams(text: str, n: int) -> list[str]:
    """Overlapping character n-grams of `text` (the whole text when it is shorter than n)."""
    if len(text) <= n:
        return [text] if text else []
    return [text[i : i + n] for i in range(len(text) - n + 1)]
