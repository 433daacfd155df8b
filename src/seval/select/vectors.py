"""Hashed n-gram TF-IDF vectors of prompts, for the on-topic score and for diversity.

A cheap bag of n-grams is enough to tell a drug-synthesis request from a defamation request, and to
spread a risk's prompts over different wordings, without a model. Chinese is vectorised on characters
and character bigrams, English on stemmed content words, their bigrams and character 4-grams; all
features are hashed into a fixed space (sklearn's FeatureHasher, murmurhash: stable across processes).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import TfidfTransformer

from seval.defaults import VECTOR_FEATURES
from seval.select.lexicon import canonical_en, canonical_zh
from seval.select.text import EN_STOPWORDS, char_ngrams, normalize, stem, words

__all__ = ["features", "hashed_counts", "tfidf_vectors"]

_ZH_STOP_CHARS = frozenset("的了吗呢吧啊呀我你他她它们是在有和与把被请问一下个这那就都也要")


def features(text: str, lang: str) -> list[str]:
    """The n-gram features of one text (prefixed by kind so that they never collide)."""
    norm = normalize(text)
    if lang.lower().startswith("zh"):
        compact = canonical_zh(norm.replace(" ", ""))
        feats = [f"c:{ch}" for ch in compact if ch not in _ZH_STOP_CHARS and not ch.isascii()]
        feats += [f"b:{g}" for g in char_ngrams(compact, 2)]
        feats += [f"w:{w}" for w in words(norm)]  # Latin words inside Chinese text ("WiFi", "SQL")
        return feats
    content = [stem(canonical_en(w)) for w in words(norm) if w not in EN_STOPWORDS]
    feats = [f"w:{w}" for w in content]
    feats += [f"b:{a} {b}" for a, b in itertools.pairwise(content)]
    for w in content:
        if len(w) > 4:
            feats += [f"c:{g}" for g in char_ngrams(w, 4)]
    return feats


def hashed_counts(texts: Sequence[str], langs: Sequence[str]) -> sparse.csr_matrix:
    """Raw feature counts, one row per text, in a space of `VECTOR_FEATURES` columns."""
    hasher = FeatureHasher(n_features=VECTOR_FEATURES, input_type="string", alternate_sign=False)
    matrix = hasher.transform(features(t, lang) for t, lang in zip(texts, langs, strict=True))
    return sparse.csr_matrix(matrix, dtype=np.float64)


def tfidf_vectors(counts: sparse.csr_matrix, fit_on: sparse.csr_matrix | None = None) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows (sublinear tf), with IDF fitted on `fit_on` (default: `counts`)."""
    transformer = TfidfTransformer(sublinear_tf=True, norm="l2")
    transformer.fit(counts if fit_on is None else fit_on)
    return sparse.csr_matrix(transformer.transform(counts))
