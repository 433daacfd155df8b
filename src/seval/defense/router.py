"""The risk router: which constitutions apply to an incoming prompt.

S-Eval's defense is differentiated: a prompt about drugs gets the drug principles, one about privacy
the privacy principles, and a harmless prompt only the general ones, instead of one blanket system
prompt that makes a model refuse everything. The router decides that, on every request of a deployed
proxy, so it must cost about a millisecond: a linear model over hashed word and hanzi n-grams (the
local critic's fast features) predicts the risk dimension (or "none"), and within a chosen dimension
the nearest risk category is picked by n-gram similarity to the category's names, descriptions and
seed prompts, both languages.

The trained weights ship in `router_model/` (`python -m seval.defense.router_train` rebuilds them
from the data list in its manifest).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse

from seval import defaults
from seval.critic.local.features import text_tokens
from seval.critic.refusal import is_chinese
from seval.errors import DataError
from seval.taxonomy import Taxonomy, load_taxonomy

NONE = "none"
N_FEATURES = 2**17
MODEL_FILE = "router.npz"


@dataclass(frozen=True)
class Route:
    """The router's decision for one prompt."""

    lang: str
    risks: tuple[str, ...]  # taxonomy ids (categories, or dimensions), most likely first; () = none
    probs: dict[str, float] = field(default_factory=dict)  # per dimension and "none"

    @property
    def harmful(self) -> float:
        return 1.0 - self.probs.get(NONE, 0.0)


class RiskRouter(Protocol):
    id: str

    def route(self, text: str) -> Route: ...


def featurize(texts: list[str]) -> sparse.csr_matrix:
    """Hashed, log-scaled, L2-normalised n-gram counts of each text."""
    from sklearn.feature_extraction import FeatureHasher

    hasher = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=True)
    m = hasher.transform(text_tokens(t[:2000].lower()) for t in texts).tocsr().astype(np.float32)
    m.data = np.sign(m.data) * np.log1p(np.abs(m.data))
    norms = np.sqrt(m.multiply(m).sum(axis=1)).A1
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(m.multiply(1.0 / norms[:, None]))


def category_profiles(
    taxonomy: Taxonomy, extra: dict[str, list[str]] | None = None
) -> tuple[list[str], list[str], sparse.csr_matrix]:
    """(category ids, their dimension ids, one n-gram profile row per category) from the taxonomy's
    names and descriptions (the category's and its finer risks'), the seed prompts filed under it, and
    `extra` prompts per category (the trainer adds our hand-written, category-labeled prompts)."""
    from seval.data.seed import load_seed_suite

    seed: dict[str, list[str]] = {k: list(v) for k, v in (extra or {}).items()}
    for case in load_seed_suite(include_benign=False):
        node = taxonomy.try_resolve(case.risk)
        cat = taxonomy.category_of(node.id) if node else None
        if cat:
            seed.setdefault(cat.id, []).append(case.prompt)
    ids, dims, texts = [], [], []
    for cat in taxonomy.categories():
        parts = []
        for node in [cat, *taxonomy.descendants(cat.id)]:
            parts += [node.name_en, node.name_zh, node.description, node.description_zh]
        parts += seed.get(cat.id, [])
        ids.append(cat.id)
        dims.append(taxonomy.dimension_of(cat.id).id)
        texts.append("\n".join(parts))
    return ids, dims, featurize(texts)


def _idf_weighted(profiles: sparse.csr_matrix) -> sparse.csr_matrix:
    """Weight profile features by how few categories share them, then re-normalise: words every
    category's text uses ("how", "online", 的) must not decide between two categories."""
    n = profiles.shape[0]
    df = np.bincount(profiles.indices, minlength=profiles.shape[1])
    idf = np.log((1 + n) / (1 + df)).astype(np.float32)
    m = sparse.csr_matrix(profiles.multiply(idf[None, :]))
    norms = np.sqrt(m.multiply(m).sum(axis=1)).A1
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(m.multiply(1.0 / norms[:, None]))


class NgramRouter:
    """The shipped router: dimension head + category profiles."""

    def __init__(
        self,
        classes: list[str],
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        taxonomy: Taxonomy | None = None,
        *,
        profiles: tuple[list[str], sparse.csr_matrix] | None = None,
        threshold: float = defaults.ROUTER_THRESHOLD,
        max_risks: int = defaults.ROUTER_MAX_RISKS,
    ) -> None:
        self.classes = classes
        self.weights = weights  # (n_classes, N_FEATURES)
        self.bias = bias
        self.threshold = threshold
        self.max_risks = max_risks
        self.taxonomy = taxonomy or load_taxonomy()
        if profiles is not None and all(self.taxonomy.try_resolve(c) for c in profiles[0]):
            self.cat_ids, self.profiles = profiles
            self.cat_dims = [self.taxonomy.dimension_of(c).id for c in self.cat_ids]
        else:  # a taxonomy with other categories than the trained profiles: build them from its texts
            self.cat_ids, self.cat_dims, self.profiles = category_profiles(self.taxonomy)
        self.profiles = _idf_weighted(self.profiles)
        digest = hashlib.sha256(weights.tobytes() + bias.tobytes() + "|".join(classes).encode())
        self.id = f"ngram-router@{digest.hexdigest()[:10]}"

    @classmethod
    def load(cls, directory: Path | None = None, taxonomy: Taxonomy | None = None) -> NgramRouter:
        try:
            if directory is None:
                ref = resources.files("seval.defense").joinpath("router_model", MODEL_FILE)
                with resources.as_file(ref) as path:
                    data = np.load(path, allow_pickle=False)
                    arrays = {k: data[k] for k in data.files}
            else:
                data = np.load(Path(directory) / MODEL_FILE, allow_pickle=False)
                arrays = {k: data[k] for k in data.files}
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"cannot load the risk router ({exc})") from exc
        classes = [str(c) for c in arrays["classes"]]
        profiles = None
        if "profile_ids" in arrays:
            matrix = sparse.csr_matrix(
                (
                    arrays["profile_data"].astype(np.float32),
                    arrays["profile_indices"],
                    arrays["profile_indptr"],
                ),
                shape=(len(arrays["profile_ids"]), N_FEATURES),
            )
            profiles = ([str(c) for c in arrays["profile_ids"]], matrix)
        weights, bias = arrays["weights"].astype(np.float32), arrays["bias"].astype(np.float32)
        return cls(classes, weights, bias, taxonomy, profiles=profiles)

    def probabilities(self, texts: list[str], x: sparse.csr_matrix | None = None) -> npt.NDArray[np.float32]:
        x = featurize(texts) if x is None else x
        logits = np.asarray(x @ self.weights.T) + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        out: npt.NDArray[np.float32] = (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
        return out

    def route(self, text: str) -> Route:
        lang = "zh" if is_chinese(text) else "en"
        x = featurize([text])  # once: the dimension head and the category match share it
        p = self.probabilities([text], x)[0]
        probs = {c: round(float(v), 4) for c, v in zip(self.classes, p, strict=True)}
        order = np.argsort(-p)
        dims = [self.classes[i] for i in order if self.classes[i] != NONE and p[i] >= self.threshold]
        risks: list[str] = []
        if dims:
            sims = np.asarray((self.profiles @ x.T).todense()).ravel()
            for dim in dims[: self.max_risks]:
                members = [i for i, d in enumerate(self.cat_dims) if d == dim]
                best = max(members, key=lambda i: sims[i]) if members else None
                risks.append(self.cat_ids[best] if best is not None and sims[best] > 0 else dim)
        return Route(lang=lang, risks=tuple(risks), probs=probs)


@lru_cache(maxsize=2)
def default_router() -> NgramRouter:
    return NgramRouter.load()
