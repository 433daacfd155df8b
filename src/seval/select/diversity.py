"""Diversity: order a risk's prompts so that the first K are spread out, not near-paraphrases.

Greedy maximal marginal relevance (MMR) over hashed n-gram TF-IDF vectors: each next prompt maximises
lambda * quality - (1 - lambda) * (its highest cosine similarity to the prompts already chosen), so the
order trades quality against novelty; "kcenter" ignores quality after the first pick (farthest-first
traversal). A budget then keeps a prefix of this order. A prompt whose similarity to a chosen one
reaches `redundant_sim` is dropped outright: a paraphrase that dedup's stricter test let through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from seval.defaults import DIVERSITY_METHOD, DIVERSITY_MMR_LAMBDA, DIVERSITY_REDUNDANT_SIM
from seval.errors import ConfigError

__all__ = ["DIVERSITY_METHODS", "SpreadOrder", "spread_order"]

DIVERSITY_METHODS: tuple[str, ...] = ("mmr", "kcenter")
# Groups up to this size get a dense similarity matrix (float32, 64 MB at the limit); larger groups
# compute one similarity row per pick, and are ordered for spread only as far as `limit` picks.
_DENSE_LIMIT = 4000


@dataclass
class SpreadOrder:
    order: list[int]  # indices into the group, most useful first (redundant ones excluded)
    redundant: dict[int, tuple[int, float]]  # index -> (index of the chosen prompt it repeats, cosine)


def spread_order(
    vectors: sparse.csr_matrix,
    relevance: np.ndarray,
    *,
    method: str = DIVERSITY_METHOD,
    lam: float = DIVERSITY_MMR_LAMBDA,
    redundant_sim: float = DIVERSITY_REDUNDANT_SIM,
    limit: int | None = None,
) -> SpreadOrder:
    """Order the rows of `vectors` (L2-normalised) for spread; ties go to the earlier row.

    `limit` bounds how many picks are made by MMR in groups too large for a dense matrix; the rest
    follow in relevance order.
    """
    if method not in DIVERSITY_METHODS:
        raise ConfigError(
            f"unknown diversity method {method!r}", hint=f"use one of {', '.join(DIVERSITY_METHODS)}"
        )
    m = vectors.shape[0]
    if m == 0:
        return SpreadOrder([], {})
    weight = 0.0 if method == "kcenter" else lam
    dense = (vectors @ vectors.T).toarray().astype(np.float32) if m <= _DENSE_LIMIT else None
    picks = m if dense is not None or limit is None else min(m, limit)
    max_sim = np.zeros(m, dtype=np.float64)
    open_ = np.ones(m, dtype=bool)
    order: list[int] = []
    redundant: dict[int, tuple[int, float]] = {}
    rel = relevance.astype(np.float64)
    while open_.any() and len(order) < picks:
        # The first pick is the most relevant prompt; then MMR (or, for k-center, the farthest one).
        score = rel.copy() if not order else weight * rel - (1 - weight) * max_sim
        score[~open_] = -np.inf
        j = int(np.argmax(score))
        order.append(j)
        open_[j] = False
        row = dense[j] if dense is not None else (vectors @ vectors[j].T).toarray().ravel()
        np.maximum(max_sim, row, out=max_sim)
        repeats = np.flatnonzero(open_ & (row >= redundant_sim))
        for r in repeats.tolist():
            redundant[r] = (j, float(row[r]))
        open_[repeats] = False
    if open_.any():  # large group, past the limit: the rest by relevance, earlier first on ties
        rest = np.flatnonzero(open_)
        order.extend(rest[np.argsort(-rel[rest], kind="stable")].tolist())
    return SpreadOrder(order, redundant)
