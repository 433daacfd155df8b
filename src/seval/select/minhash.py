"""MinHash signatures, LSH banding and exact Jaccard on candidate pairs, vectorised with numpy.

Comparing every pair of 20,000 prompts is 200 million comparisons; MinHash + LSH narrows that to the
pairs that probably overlap, and the exact Jaccard of their shingle sets then decides. Documents are
given as shingle-id lists in CSR form (`indptr`, `ids`), so the caller chooses what a shingle is.

Everything is seeded and deterministic: the same input gives the same pairs in every process (Python's
salted `hash` is never used).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

__all__ = ["agreement", "candidate_pairs", "jaccard", "signatures"]

IntArray = npt.NDArray[np.int64]

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
# Rows of shingles hashed at once: bounds the temporary (rows x permutations) array to ~50 MB.
_CHUNK = 1 << 15


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser: spreads consecutive shingle ids over all 64 bits before permuting."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def signatures(indptr: IntArray, ids: IntArray, num_perm: int, seed: int) -> npt.NDArray[np.uint32]:
    """MinHash signatures, one row per document: for each of `num_perm` hash functions
    h(x) = (a*x + b) >> 32 over 64-bit words (a odd), the minimum over the document's shingles.

    An empty document gets the all-ones signature, which only matches other empty documents.
    """
    n_docs = len(indptr) - 1
    out = np.full((n_docs, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    if len(ids) == 0:
        return out
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    mixed = _mix(ids.astype(np.uint64))
    doc_of = np.repeat(np.arange(n_docs), np.diff(indptr))
    with np.errstate(over="ignore"):
        for start in range(0, len(mixed), _CHUNK):
            chunk = mixed[start : start + _CHUNK]
            hashed = ((chunk[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)).astype(np.uint32)
            docs = doc_of[start : start + _CHUNK]
            # Segments of equal document id are contiguous, so reduceat gives each one's minimum.
            bounds = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]])
            mins = np.minimum.reduceat(hashed, bounds, axis=0)
            seg_docs = docs[bounds]
            out[seg_docs] = np.minimum(out[seg_docs], mins)
    return out


def candidate_pairs(
    sigs: npt.NDArray[np.uint32],
    bands: int,
    rows: int,
    groups: IntArray | None = None,
    max_bucket: int = 64,
) -> IntArray:
    """Pairs (i, j), i < j, that share at least one LSH band; only pairs within the same `groups` value
    (e.g. the same language) are returned.

    Two documents of Jaccard similarity s share a band with probability 1 - (1 - s**rows)**bands. A bucket
    larger than `max_bucket` (many near-identical documents) is compared within a sliding window of that
    size, so one degenerate bucket cannot make the pair count quadratic.
    """
    n = sigs.shape[0]
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands x rows = {bands * rows} exceeds the {sigs.shape[1]} permutations")
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    group_key = np.zeros(n, dtype=np.uint64) if groups is None else groups.astype(np.uint64)
    found: list[IntArray] = []
    weights = _mix(np.arange(1, rows + 1, dtype=np.uint64))
    with np.errstate(over="ignore"):
        for band in range(bands):
            block = sigs[:, band * rows : (band + 1) * rows].astype(np.uint64)
            key = _mix((block * weights[None, :]).sum(axis=1, dtype=np.uint64) ^ _mix(group_key))
            order = np.argsort(key, kind="stable")
            sorted_key = key[order]
            for gap in range(1, max_bucket):
                if gap >= n:
                    break
                same = sorted_key[gap:] == sorted_key[:-gap]
                if not same.any():
                    break
                idx = np.flatnonzero(same)
                found.append(np.stack([order[idx], order[idx + gap]], axis=1))
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    pairs.sort(axis=1)
    if groups is not None:  # a 64-bit key collision across groups is possible in principle
        pairs = pairs[groups[pairs[:, 0]] == groups[pairs[:, 1]]]
    code = np.unique(pairs[:, 0].astype(np.int64) * n + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1).astype(np.int64)


def agreement(sigs: npt.NDArray[np.uint32], pairs: IntArray) -> npt.NDArray[np.float64]:
    """The MinHash estimate of each pair's Jaccard similarity: the share of equal signature entries.

    Much cheaper than the exact Jaccard (one comparison per permutation instead of a sort of both
    shingle lists), so it prunes the candidates that LSH let through by chance before the exact check.
    """
    out = np.empty(len(pairs), dtype=np.float64)
    step = 1 << 15
    for start in range(0, len(pairs), step):
        chunk = pairs[start : start + step]
        out[start : start + len(chunk)] = (sigs[chunk[:, 0]] == sigs[chunk[:, 1]]).mean(axis=1)
    return out


def jaccard(indptr: IntArray, ids: IntArray, pairs: IntArray) -> npt.NDArray[np.float64]:
    """Exact Jaccard similarity of the shingle sets of each pair (ids within a document must be unique).

    The documents form a binary sparse matrix; gathering both rows of every pair and multiplying them
    elementwise counts the shared shingles in C, chunk by chunk, with no Python loop per pair.
    """
    if len(pairs) == 0:
        return np.empty(0, dtype=np.float64)
    n_docs = len(indptr) - 1
    width = int(ids.max()) + 1 if len(ids) else 1
    matrix = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), ids, indptr), shape=(n_docs, width))
    sizes = np.diff(indptr).astype(np.float64)
    out = np.empty(len(pairs), dtype=np.float64)
    step = 1 << 17
    for start in range(0, len(pairs), step):
        chunk = pairs[start : start + step]
        inter = np.asarray(matrix[chunk[:, 0]].multiply(matrix[chunk[:, 1]]).sum(axis=1)).ravel()
        union = sizes[chunk[:, 0]] + sizes[chunk[:, 1]] - inter
        out[start : start + len(chunk)] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
    return out
