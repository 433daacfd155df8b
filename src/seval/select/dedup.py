"""Exact and near-duplicate removal, within a batch and against an existing suite.

Duplicates are decided per language: a zh prompt and its en translation are a parallel pair, not
duplicates, so they are never compared. Within a language:

1. exact duplicates share the folded text (`text.exact_key`: width, case, punctuation, spacing);
2. near duplicates are found with MinHash + LSH over shingles chosen per language (see `shingles`) and
   confirmed by the exact Jaccard of the shingle sets, unless a veto applies: one prompt carries a
   defensive cue the other lacks, or their differing words are antonyms (see `lexicon`).

Keeping is greedy in priority order (existing-suite prompts first, then best quality, then earliest):
a prompt is dropped when it duplicates a prompt already kept. Unlike merging connected components,
this never lets a chain A~B~C drop C for resembling B when B itself was dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from seval.defaults import (
    DEDUP_BANDS,
    DEDUP_CHAR_NGRAM_EN,
    DEDUP_CHAR_NGRAM_OTHER,
    DEDUP_ESTIMATE_MARGIN,
    DEDUP_MAX_BUCKET,
    DEDUP_NUM_PERM,
    DEDUP_ROWS,
    DEDUP_SEED,
    DEDUP_THRESHOLD,
)
from seval.select.lexicon import (
    EN_DEFENSIVE_CUES,
    ZH_DEFENSIVE_CUES,
    canonical_en,
    canonical_zh,
    is_antonym_pair,
)
from seval.select.minhash import agreement, candidate_pairs, jaccard, signatures
from seval.select.text import EN_STOPWORDS, char_ngrams, normalize, stem, words

__all__ = ["DedupDoc", "DedupOutcome", "Shingled", "find_duplicates", "shingle"]

# Characters too common in Chinese requests to say anything about what is asked.
_ZH_STOP_CHARS = frozenset("的了吗呢吧啊呀我你他她它们是在有和与把被请问一下")


@dataclass(frozen=True)
class Shingled:
    """What dedup knows of one prompt: its exact key, its shingles, and the words the vetoes look at."""

    key: str
    shingles: frozenset[str]
    cues: frozenset[str]
    words: frozenset[str]


def _lang_family(lang: str) -> str:
    low = lang.lower()
    return "zh" if low.startswith("zh") else "en" if low.startswith("en") else low


def shingle(prompt: str, lang: str) -> Shingled:
    """Shingles of one prompt.

    English: character 5-grams over the stemmed, synonym-folded content words, so that typos, inflection,
    fillers ("please", "could you") and swapped synonyms change few shingles. Chinese: single characters
    (without the commonest function characters) and character bigrams of the synonym-folded text, since
    Chinese paraphrases swap two-character words. Other languages: character n-grams of the folded text.
    """
    norm = normalize(prompt)
    family = _lang_family(lang)
    key = norm.replace(" ", "")
    if family == "zh":
        text = canonical_zh(key)
        grams = {ch for ch in text if ch not in _ZH_STOP_CHARS} | set(char_ngrams(text, 2))
        cues = frozenset(c for c in ZH_DEFENSIVE_CUES if c in text)
        return Shingled(key, frozenset(grams), cues, frozenset())
    if family == "en":
        raw = words(norm)
        content = [stem(canonical_en(w)) for w in raw if w not in EN_STOPWORDS]
        joined = " ".join(content) if content else norm
        cues = frozenset(w for w in raw if w in EN_DEFENSIVE_CUES)
        return Shingled(key, frozenset(char_ngrams(joined, DEDUP_CHAR_NGRAM_EN)), cues, frozenset(content))
    return Shingled(key, frozenset(char_ngrams(norm, DEDUP_CHAR_NGRAM_OTHER)), frozenset(), frozenset())


def _vetoed(a: Shingled, b: Shingled) -> bool:
    """True when two similar prompts still ask different things (see the module docstring)."""
    if a.cues != b.cues:
        return True
    only_a, only_b = a.words - b.words, b.words - a.words
    return any(is_antonym_pair(x, y) for x in only_a for y in only_b)


@dataclass(frozen=True)
class DedupDoc:
    """One prompt to deduplicate. `anchor` prompts (an existing suite) are kept first and never dropped."""

    prompt: str
    lang: str
    anchor: bool = False


@dataclass
class DedupOutcome:
    """For each document: None when kept, else (index of the kept document it duplicates, kind, score),
    where kind is "exact" or "near"."""

    duplicate_of: list[tuple[int, str, float] | None]
    candidates: int = 0
    verified: int = 0
    vetoed: int = 0
    groups: dict[int, list[int]] = field(default_factory=dict)


def find_duplicates(
    docs: Sequence[DedupDoc],
    priority: Sequence[int] | None = None,
    *,
    thresholds: dict[str, float] | None = None,
    near: bool = True,
) -> DedupOutcome:
    """Decide which documents are duplicates of which.

    `priority` lists document indices best first (default: input order); anchors always go first.
    The result maps each dropped document to the kept document it duplicates; `groups` maps each kept
    document with duplicates to their indices.
    """
    n = len(docs)
    thresholds = thresholds or DEDUP_THRESHOLD
    order = list(priority) if priority is not None else list(range(n))
    order = [i for i in order if docs[i].anchor] + [i for i in order if not docs[i].anchor]
    rank = np.empty(n, dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(n)
    shingled = [shingle(d.prompt, d.lang) for d in docs]
    families = [_lang_family(d.lang) for d in docs]

    # Edges: (i, j, kind, score). Exact duplicates first: the same folded text in the same language.
    edges: dict[int, list[tuple[int, str, float]]] = {}
    by_key: dict[tuple[str, str], int] = {}
    exact_rep: dict[int, int] = {}
    for i in order:
        k = (families[i], shingled[i].key)
        first = by_key.setdefault(k, i)
        if first != i:
            exact_rep[i] = first
    outcome = DedupOutcome(duplicate_of=[None] * n)
    if near:
        reps = [i for i in range(n) if i not in exact_rep]
        floor = min(thresholds.values()) - DEDUP_ESTIMATE_MARGIN
        pairs, sims, cands = _near_pairs([shingled[i] for i in reps], [families[i] for i in reps], floor)
        outcome.candidates = cands
        for (a, b), s in zip(pairs.tolist(), sims.tolist(), strict=True):
            i, j = reps[a], reps[b]
            if s < thresholds.get(families[i], thresholds.get("*", 0.5)):
                continue
            if _vetoed(shingled[i], shingled[j]):
                outcome.vetoed += 1
                continue
            outcome.verified += 1
            edges.setdefault(i, []).append((j, "near", s))
            edges.setdefault(j, []).append((i, "near", s))

    kept = np.zeros(n, dtype=bool)
    for i in order:
        if i in exact_rep:
            target = exact_rep[i]
            # The first holder of this exact key may itself have been dropped as a near duplicate.
            dup = outcome.duplicate_of[target]
            rep = dup[0] if dup is not None else target
            outcome.duplicate_of[i] = (rep, "exact", 1.0)
            outcome.groups.setdefault(rep, []).append(i)
            continue
        best: tuple[int, str, float] | None = None
        for j, kind, s in edges.get(i, ()):
            if kept[j] and (best is None or s > best[2] or (s == best[2] and rank[j] < rank[best[0]])):
                best = (j, kind, s)
        if best is None or docs[i].anchor:
            kept[i] = True
        else:
            outcome.duplicate_of[i] = best
            outcome.groups.setdefault(best[0], []).append(i)
    return outcome


def _near_pairs(
    items: Sequence[Shingled], families: Sequence[str], floor: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Candidate pairs from LSH (same language only) whose MinHash estimate reaches `floor`, and their
    exact Jaccard similarity; also returns how many candidates LSH proposed."""
    vocab: dict[str, int] = {}
    indptr = [0]
    ids: list[int] = []
    for item in items:
        # Shingles in sorted order (set order varies between processes), ids unique within a document.
        ids.extend(sorted({vocab.setdefault(g, len(vocab)) for g in sorted(item.shingles)}))
        indptr.append(len(ids))
    indptr_a = np.asarray(indptr, dtype=np.int64)
    ids_a = np.asarray(ids, dtype=np.int64)
    fam_codes: dict[str, int] = {}
    groups = np.asarray([fam_codes.setdefault(f, len(fam_codes)) for f in families], dtype=np.int64)
    sigs = signatures(indptr_a, ids_a, DEDUP_NUM_PERM, DEDUP_SEED)
    pairs = candidate_pairs(sigs, DEDUP_BANDS, DEDUP_ROWS, groups, DEDUP_MAX_BUCKET)
    proposed = len(pairs)
    pairs = pairs[agreement(sigs, pairs) >= floor]
    return pairs, jaccard(indptr_a, ids_a, pairs), proposed
