"""On-topic score: is a generated prompt about the risk it was generated for?

Each risk of the taxonomy gets a profile per language: the centroid of its own and its descendants'
names and descriptions, plus example prompts of its subtree (the seed suite, the user's suite). A
prompt is scored against every profile of its language with cosine similarity of hashed n-gram TF-IDF
vectors; its *own* similarity is the best over its risk's family (the risk, its ancestors and
descendants), its *other* similarity the best over risks of other dimensions. A prompt is off topic when
it resembles its own risk hardly at all, or another dimension clearly more (share = own / (own + other)).
The IDF is fitted on the profiles and the batch together, so the words every request shares
("how", "can") weigh little.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from seval.records import TestCase
from seval.select.background import BACKGROUND_EN, BACKGROUND_ZH
from seval.select.vectors import hashed_counts, tfidf_vectors
from seval.taxonomy import Taxonomy

__all__ = ["TopicModel", "TopicScore"]


@dataclass(frozen=True)
class TopicScore:
    own: float  # best cosine similarity to the prompt's own risk family
    other: float  # best cosine similarity to a risk of another dimension
    other_risk: str | None  # that risk's id
    share: float  # own / (own + other); 0.5 when both are zero
    background: float  # cosine similarity to the profile of everyday, riskless requests


def _family(lang: str) -> str | None:
    low = lang.lower()
    return "zh" if low.startswith("zh") else "en" if low.startswith("en") else None


class TopicModel:
    """Risk profiles of one taxonomy, built once and used to score any number of prompts."""

    def __init__(self, taxonomy: Taxonomy, examples: Iterable[TestCase] = ()) -> None:
        self.taxonomy = taxonomy
        self.nodes = [n.id for n in taxonomy]
        self._col = {node_id: i for i, node_id in enumerate(self.nodes)}
        # Profile documents per language: (text, index of the node it describes).
        self._docs: dict[str, list[tuple[str, int]]] = {"zh": [], "en": []}
        for node in taxonomy:
            col = self._col[node.id]
            en = " ".join([node.name_en, node.description, *node.aliases])
            zh = " ".join([node.name_zh, node.description_zh])
            self._docs["en"].append((en, col))
            self._docs["zh"].append((zh, col))
        self._background = {"en": BACKGROUND_EN, "zh": BACKGROUND_ZH}
        for case in examples:
            fam = _family(case.lang)
            found = taxonomy.try_resolve(case.risk)
            if fam is not None and found is not None and case.attack is None and not case.benign:
                self._docs[fam].append((case.prompt, self._col[found.id]))
        # subtree[i, j] = 1 when node j is node i or below it: a profile covers its whole subtree.
        rows, cols = [], []
        for node in taxonomy:
            i = self._col[node.id]
            for sub in [node, *taxonomy.descendants(node.id)]:
                rows.append(i)
                cols.append(self._col[sub.id])
        k = len(self.nodes)
        self._subtree = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(k, k))
        dims = [taxonomy.dimension_of(n).id for n in self.nodes]
        self._dim_col = np.asarray([self._col[d] for d in dims])
        self._family_cols: dict[str, np.ndarray] = {}

    def _family_of(self, node_id: str) -> np.ndarray:
        cols = self._family_cols.get(node_id)
        if cols is None:
            ids = [node_id] + [a.id for a in self.taxonomy.ancestors(node_id)]
            ids += [d.id for d in self.taxonomy.descendants(node_id)]
            cols = np.asarray(sorted(self._col[i] for i in ids))
            self._family_cols[node_id] = cols
        return cols

    def score(
        self, prompts: Sequence[str], langs: Sequence[str], risks: Sequence[str]
    ) -> list[TopicScore | None]:
        """One score per prompt (None for languages without profiles). `risks` are node ids."""
        out: list[TopicScore | None] = [None] * len(prompts)
        for fam in ("zh", "en"):
            idx = [i for i, lang in enumerate(langs) if _family(lang) == fam]
            if not idx:
                continue
            docs = self._docs[fam]
            background = self._background[fam]
            profile_counts = hashed_counts([d for d, _ in docs], [fam] * len(docs))
            background_counts = hashed_counts(background, [fam] * len(background))
            prompt_counts = hashed_counts([prompts[i] for i in idx], [fam] * len(idx))
            # IDF from the profiles only: a batch generated for one risk repeats that risk's words,
            # and an IDF fitted on it would discount exactly the words that make a prompt on topic.
            fit_on = sparse.vstack([profile_counts, background_counts]).tocsr()
            doc_vecs = tfidf_vectors(profile_counts, fit_on=fit_on)
            prompt_vecs = tfidf_vectors(prompt_counts, fit_on=fit_on)
            bg = np.asarray(tfidf_vectors(background_counts, fit_on=fit_on).mean(axis=0)).ravel()
            bg /= max(float(np.linalg.norm(bg)), 1e-12)
            # Centroid of each node's documents (unit vectors), then of its subtree; re-normalised. Kept
            # sparse: a dense (nodes x hashed features) matrix would be hundreds of megabytes.
            member = sparse.csr_matrix(
                (np.ones(len(docs)), ([c for _, c in docs], np.arange(len(docs)))),
                shape=(len(self.nodes), len(docs)),
            )
            centroids = sparse.csr_matrix(self._subtree @ member @ doc_vecs)
            norms = np.sqrt(np.asarray(centroids.multiply(centroids).sum(axis=1)).ravel())
            centroids = sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ centroids
            sims = np.asarray((prompt_vecs @ centroids.T).toarray())
            bg_sims = np.asarray(prompt_vecs @ bg).ravel()
            self._fill(out, idx, sims, bg_sims, [risks[i] for i in idx])
        return out

    def _fill(
        self, out: list[TopicScore | None], idx: list[int], sims: np.ndarray, bg: np.ndarray, risks: list[str]
    ) -> None:
        by_risk: dict[str, list[int]] = {}
        for row, risk in enumerate(risks):
            by_risk.setdefault(risk, []).append(row)
        for risk, rows in by_risk.items():
            block = sims[rows]
            own = block[:, self._family_of(risk)].max(axis=1)
            dim = self._col[self.taxonomy.dimension_of(risk).id]
            others = np.flatnonzero(self._dim_col != dim)
            other_block = block[:, others]
            best = other_block.argmax(axis=1)
            other = other_block[np.arange(len(rows)), best]
            for r, o, b, ot in zip(rows, own.tolist(), best.tolist(), other.tolist(), strict=True):
                total = o + ot
                share = o / total if total > 0 else 0.5
                out[idx[r]] = TopicScore(
                    round(o, 4), round(ot, 4), self.nodes[others[b]], round(share, 4), round(float(bg[r]), 4)
                )
