"""Cross-source validation of the local critic: hold one labeled source out, train on the rest, test on it.

Validation inside one source flatters a critic, because it learns that source's style (BeaverTails
answers, one writer's refusals); only a source it has never seen says how it will do on a user's data.
Every held-out source also leaves the request head, so its prompts are unseen too. The figures the README
reports come from this module (`training/critic/train.sh --cross-source`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from seval.critic.evaluate import balanced_accuracy, confusion, recall
from seval.critic.local.embed import Encoder
from seval.critic.local.model import in_cascade_band, sigmoid
from seval.critic.local.train import DataFile, Pair, featurize, fit_tiers, load_data
from seval.errors import DataError

# Our own labeled sets and the embedded model's labeled answers: the sources held out by default.
OWN_SOURCE_PREFIX = "seval-"
THRESHOLD = 0.5


def _scores(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """The same balanced accuracy and recalls as `seval critic eval`; AUC from scikit-learn."""
    from sklearn.metrics import roc_auc_score

    c = confusion(y == 1, p > THRESHOLD)
    both = c.tp + c.fn > 0 and c.tn + c.fp > 0
    safe_recall = c.tn / (c.tn + c.fp) if c.tn + c.fp else None
    return {
        "balanced_accuracy": round(balanced_accuracy(c), 4) if both else None,
        "recall_unsafe": round(recall(c), 4) if c.tp + c.fn else None,
        "recall_safe": round(safe_recall, 4) if safe_recall is not None else None,
        "auc": round(float(roc_auc_score(y, p)), 4) if both else None,
    }


def cross_source(
    files: Sequence[DataFile],
    *,
    encoder: Encoder,
    hold_out: Sequence[str] = (),
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Per held-out source and language: n, balanced accuracy of the fast tier, the accurate tier and the
    cascade, recall per class and AUC of the cascade; plus every held-out prediction pooled per language."""
    data = load_data(files)
    pairs = data.pairs
    sources = sorted({p.source for p in pairs})
    holds = list(hold_out) or [s for s in sources if s.startswith(OWN_SOURCE_PREFIX)]
    unknown = [h for h in holds if h not in sources]
    if unknown:
        raise DataError(f"no labeled responses from source {unknown[0]!r}; sources: {', '.join(sources)}")
    log(f"embedding {len(pairs)} labeled responses ...")
    feats = featurize(pairs, encoder)
    src = np.array([p.source for p in pairs])
    lang = np.array([p.lang for p in pairs])
    y = np.array([p.label for p in pairs])
    out: dict[str, Any] = {"threshold": THRESHOLD, "sources": {}, "pooled": {}}
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for hold in holds:
        log(f"holding out {hold} ...")
        tr, te = np.where(src != hold)[0], np.where(src == hold)[0]
        train_pairs: list[Pair] = [pairs[i] for i in tr]
        train_prompts = [r for r in data.prompts if r.source != hold]
        tiers = fit_tiers(train_pairs, train_prompts, feats.take(tr), encoder, lambda _m: None)
        ft = feats.take(te)
        fl = tiers.fast.logits([pairs[i].prompt for i in te], [pairs[i].response for i in te], ft.cues)
        pf = sigmoid(fl)
        pa = tiers.accurate.scores_from(ft.e_prompt, ft.e_response, ft.cues, fl)
        band = in_cascade_band(pf, tiers.low, tiers.high)
        pc = np.where(band, pa, pf)
        per_lang: dict[str, Any] = {}
        for lg in sorted(set(lang[te].tolist())):
            m = lang[te] == lg
            yy = y[te][m]
            cascade = _scores(yy, pc[m])
            per_lang[lg] = {
                "n": int(m.sum()),
                "unsafe": int(yy.sum()),
                "fast": _scores(yy, pf[m])["balanced_accuracy"],
                "accurate": _scores(yy, pa[m])["balanced_accuracy"],
                "cascade": cascade["balanced_accuracy"],
                "cascade_recall_unsafe": cascade["recall_unsafe"],
                "cascade_recall_safe": cascade["recall_safe"],
                "cascade_auc": cascade["auc"],
                "to_accurate": round(float(band[m].mean()), 4),
            }
            pooled.setdefault(lg, []).append((yy, pc[m]))
        out["sources"][hold] = per_lang
    for lg, parts in sorted(pooled.items()):
        yy = np.concatenate([a for a, _ in parts])
        pp = np.concatenate([b for _, b in parts])
        out["pooled"][lg] = {"n": len(yy), **_scores(yy, pp)}
    return out
