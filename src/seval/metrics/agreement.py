"""How far the run's critic agrees with human labels, shown beside the scores it produced.

A safety score is only as good as its critic. When the user has labeled some of the run's answers
(typically: `seval runs export RUN --out x.jsonl`, add a `label` column to a sample, pass it back with
`--labels`), the report states the critic's agreement on exactly those answers, so a reader can see
whether the numbers above can be trusted for this model and this language.

A label row names its answer by `key` (the response key in exports), or by `prompt` plus `response`
(or `answer`) text.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seval.critic.evaluate import LabeledItem, parse_label, score_block
from seval.data.suite_io import parse_json_object
from seval.engine.store import RunStore
from seval.errors import DataError
from seval.metrics.frame import RunFrame
from seval.records import Verdict

_SCAN_SQL = """
SELECT r.key, json_extract(t.record, '$.prompt'), r.answer, t.lang, v.label, v.risk_score
FROM responses r JOIN tests t ON t.id = r.test_id
JOIN verdicts v ON v.response_key = r.key AND v.critic = ?
WHERE r.error IS NULL
"""


@dataclass(frozen=True)
class HumanLabel:
    key: str | None
    text_hash: str | None
    unsafe: bool
    where: str


def _text_hash(prompt: str, response: str) -> str:
    return hashlib.sha256(f"{prompt.strip()}\x00{response.strip()}".encode()).hexdigest()


def load_human_labels(paths: Iterable[Path]) -> list[HumanLabel]:
    labels: list[HumanLabel] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read labels {path}: {exc.strerror or exc}") from None
        for lineno, raw in enumerate(data.splitlines(), start=1):
            line = raw.strip().removeprefix(b"\xef\xbb\xbf")
            if not line:
                continue
            where = f"{path}:{lineno}"
            obj = parse_json_object(line, where)
            if "label" not in obj:
                raise DataError(f"{where}: missing field 'label'")
            unsafe = parse_label(obj["label"], where) == "unsafe"
            key = obj.get("key") or obj.get("response_key")
            response = obj.get("response", obj.get("answer"))
            prompt = obj.get("prompt")
            if isinstance(key, str) and key:
                labels.append(HumanLabel(key, None, unsafe, where))
            elif isinstance(prompt, str) and isinstance(response, str):
                labels.append(HumanLabel(None, _text_hash(prompt, response), unsafe, where))
            else:
                raise DataError(f"{where}: a label row needs 'key', or 'prompt' and 'response' (or 'answer')")
    if not labels:
        raise DataError("no label rows in " + ", ".join(str(p) for p in paths))
    return labels


def _kappa(tp: int, fp: int, tn: int, fn: int) -> float:
    """Cohen's kappa: agreement beyond what two raters with these label rates would reach by chance."""
    n = tp + fp + tn + fn
    if n == 0:
        return math.nan
    observed = (tp + tn) / n
    expected = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / (n * n)
    return math.nan if expected == 1 else (observed - expected) / (1 - expected)


def critic_agreement(frame: RunFrame, labels: list[HumanLabel]) -> dict[str, Any]:
    """Agreement of each run's critic with the labels that match its answers, overall and per language."""
    by_key = {lab.key: lab for lab in labels if lab.key}
    by_text = {lab.text_hash: lab for lab in labels if lab.text_hash}
    items: list[LabeledItem] = []
    verdicts: list[Verdict] = []
    matched: set[str] = set()
    for run in frame.runs:
        if not run.critic:
            continue
        with RunStore.open_dir(Path(run.path)) as store:
            for key, prompt, answer, lang, label, score in store.db.execute(_SCAN_SQL, (run.critic,)):
                lab = by_key.get(key)
                if lab is None and by_text:
                    lab = by_text.get(_text_hash(prompt or "", answer or ""))
                if lab is None or lab.where in matched:
                    continue
                matched.add(lab.where)
                items.append(
                    LabeledItem(
                        id=lab.where,
                        prompt=prompt or "",
                        response=answer or "",
                        label="unsafe" if lab.unsafe else "safe",
                        lang=lang,
                    )
                )
                verdicts.append(Verdict(response_key=key, critic=run.critic, risk_score=score, label=label))
    out: dict[str, Any] = {
        "labels": len(labels),
        "matched": len(items),
        "unmatched": len(labels) - len(items),
    }
    groups: dict[str, list[int]] = {"overall": list(range(len(items)))}
    for i, it in enumerate(items):
        groups.setdefault(it.lang, []).append(i)
    for name, idx in groups.items():
        if not idx:
            continue
        block = score_block([items[i] for i in idx], [verdicts[i] for i in idx]).to_json()
        agree = block["tp"] + block["tn"]
        scored = block["tp"] + block["fp"] + block["tn"] + block["fn"]
        block["agreement"] = round(agree / scored, 6) if scored else None
        kappa = _kappa(block["tp"], block["fp"], block["tn"], block["fn"])
        block["kappa"] = None if math.isnan(kappa) else round(kappa, 6)
        out[name] = block
    return out
