"""Train the risk router's dimension head, reproducibly, from a fixed list of data files.

    python -m seval.defense.router_train --out src/seval/defense/router_model \
        --s-eval ../shared/data/s-eval --prompts ../shared/data/critic-train/prompts_en.jsonl

Classes: the 8 risk dimensions and "none". Risky prompts: S-Eval's base risk prompts (full sets, zh and
en, labeled by dimension) and our seed suite. "none": the harmless rows of the labeled prompt set
(English), the benign prompts of our seed suite and of our hand-written critic sets (zh and en).
The benign contrast suite (`seval.data.benign`) is never trained on: it measures over-refusal, so the
router must meet it as unseen prompts. 5% of the S-Eval prompts (by hash) are held out and the
held-out accuracy is written to the manifest.

Deterministic (lbfgs, fixed data order): two trainings write identical weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from seval.data.importers.s_eval import import_s_eval
from seval.data.seed import load_seed_suite
from seval.defense.router import MODEL_FILE, NONE, category_profiles, featurize
from seval.taxonomy import load_taxonomy

C = 4.0
PRUNE = 1e-3


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) % 20 == 0


def load_rows(
    s_eval_dir: Path, prompts: Path, handmade: Path
) -> tuple[list[tuple[str, str, str]], list[dict[str, str]], dict[str, list[str]]]:
    """(text, class, lang) rows in a fixed order, the files they came from with their hashes, and our
    hand-written risky prompts per risk category (for the category profiles)."""
    tax = load_taxonomy()
    rows: list[tuple[str, str, str]] = []
    by_category: dict[str, list[str]] = {}
    files: list[dict[str, str]] = []
    for lang in ("zh", "en"):
        path = s_eval_dir / f"S-Eval_base_risk_{lang}_full.jsonl.zip"
        files.append({"path": path.name, "sha256": _sha256(path)})
        for cases in import_s_eval([path], taxonomy=tax).by_file.values():
            rows.extend((c.prompt, tax.dimension_of(c.risk).id, lang) for c in cases)
    for case in load_seed_suite():
        node = tax.try_resolve(case.risk)
        label = NONE if case.benign or node is None else tax.dimension_of(node.id).id
        rows.append((case.prompt, label, case.lang))
    files.append({"path": prompts.name, "sha256": _sha256(prompts)})
    for line in prompts.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        if obj["label"] == "safe":
            rows.append((obj["prompt"], NONE, "en"))
    # Our hand-written critic sets: one file per dimension (risky prompts, many attack-wrapped) and one of
    # benign prompts with scary words, zh and en; a third style besides S-Eval's and the seed suite's.
    dims = {d.id for d in tax.dimensions()}
    for path in sorted(handmade.glob("*/*.jsonl")):
        kind = path.stem.split("_")[1] if path.stem.count("_") >= 2 else ""
        if kind != "benign" and kind not in dims:
            continue
        label = NONE if kind == "benign" else kind
        files.append({"path": str(path.relative_to(handmade.parent)), "sha256": _sha256(path)})
        seen = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            if obj["prompt"] not in seen:
                seen.add(obj["prompt"])
                # Rows of kind benign_answer / over_refusal carry harmless prompts in a dimension's file.
                harmless = obj.get("kind") in ("benign_answer", "over_refusal")
                rows.append((obj["prompt"], NONE if harmless else label, obj.get("lang", "en")))
                node = tax.try_resolve(obj.get("risk") or "")
                cat = tax.category_of(node.id) if node and not harmless else None
                if cat is not None:
                    by_category.setdefault(cat.id, []).append(obj["prompt"])
    return rows, files, by_category


def train(rows: list[tuple[str, str, str]]) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression

    classes = [NONE, *(d.id for d in load_taxonomy().dimensions())]
    index = {c: i for i, c in enumerate(classes)}
    train_rows = [r for r in rows if not _held_out(r[0])]
    test_rows = [r for r in rows if _held_out(r[0])]
    y = np.array([index[c] for _, c, _ in train_rows])
    # Balance classes within each language, so zh "none" (few rows) weighs as much as en "none".
    groups: dict[tuple[str, str], int] = {}
    for _, c, lang in train_rows:
        groups[(c, lang)] = groups.get((c, lang), 0) + 1
    w = np.array([len(train_rows) / (len(groups) * groups[(c, lang)]) for _, c, lang in train_rows])
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(featurize([t for t, _, _ in train_rows]), y, sample_weight=w)
    weights = clf.coef_.astype(np.float32)
    weights[np.abs(weights) < PRUNE] = 0.0
    bias = clf.intercept_.astype(np.float32)
    metrics: dict[str, float] = {"train_rows": float(len(train_rows)), "held_out_rows": float(len(test_rows))}
    if test_rows:
        x = featurize([t for t, _, _ in test_rows])
        pred = np.asarray(x @ weights.astype(np.float16).astype(np.float32).T + bias).argmax(axis=1)
        truth = np.array([index[c] for _, c, _ in test_rows])
        for lang in ("zh", "en"):
            mask = np.array([r[2] == lang for r in test_rows])
            if mask.any():
                metrics[f"held_out_accuracy_{lang}"] = round(float((pred[mask] == truth[mask]).mean()), 4)
    return classes, weights, bias, metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--s-eval", type=Path, required=True, help="folder with S-Eval_base_risk_{zh,en}_full.jsonl.zip"
    )
    ap.add_argument("--prompts", type=Path, required=True, help="critic-train/prompts_en.jsonl")
    ap.add_argument("--handmade", type=Path, default=Path("training/critic/handmade"))
    args = ap.parse_args()
    rows, files, by_category = load_rows(args.s_eval, args.prompts, args.handmade)
    classes, weights, bias, metrics = train(rows)
    ids, _, profiles = category_profiles(load_taxonomy(), by_category)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / MODEL_FILE,
        classes=np.array(classes),
        weights=weights.astype(np.float16),
        bias=bias,
        profile_ids=np.array(ids),
        profile_data=profiles.data.astype(np.float16),
        profile_indices=profiles.indices,
        profile_indptr=profiles.indptr,
    )
    counts: dict[str, int] = {}
    for _, c, lang in rows:
        counts[f"{c}/{lang}"] = counts.get(f"{c}/{lang}", 0) + 1
    manifest = {
        "model": MODEL_FILE,
        "sha256": _sha256(args.out / MODEL_FILE),
        "classes": classes,
        "C": C,
        "prune": PRUNE,
        "data": [*files, {"path": "seval.data.seed (packaged)"}],
        "rows": dict(sorted(counts.items())),
        "metrics": metrics,
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
