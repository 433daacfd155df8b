"""`local`, `local-fast`, `local-accurate`: the trained offline critic as Critic plugins.

The cascade (`local`, the default judge) scores every response with the fast tier, keeps its verdict when
it is outside the band [low, high] chosen on validation folds, and sends the rest to the accurate tier.
Each verdict says which tier decided it (in `raw`), so reports can count how many went each way.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from seval import defaults
from seval.critic.base import Critic, JudgeItem, label_for, target_error_explanation
from seval.critic.local.embed import Encoder
from seval.critic.local.explain import explain
from seval.critic.local.features import cue_matrix
from seval.critic.local.model import LocalModel, in_cascade_band, load_local_model, sigmoid
from seval.critic.refusal import RefusalDetector, detect_degenerate, is_chinese
from seval.records import Verdict, stable_hash

Mode = Literal["cascade", "fast", "accurate"]


class LocalCritic(Critic):
    """The trained two-tier critic; runs on CPU with no server. `mode` picks the tier(s)."""

    description = (
        "trained offline critic: a fast n-gram + cue tier, and an accurate tier over multilingual e5 "
        "embeddings (request head, content head, combiner) for the cases the fast tier is unsure of"
    )

    def __init__(
        self,
        model_dir: str | None = None,
        *,
        mode: Mode = "cascade",
        threshold: float = defaults.UNSAFE_THRESHOLD,
        band: float = defaults.CONTROVERSIAL_BAND,
    ) -> None:
        self.model: LocalModel = load_local_model(Path(model_dir) if model_dir else None)
        self.mode = mode
        self.threshold = threshold
        self.band = band
        self._encoder = Encoder()
        self._refusals = RefusalDetector()
        fingerprint = {
            "manifest": self.model.manifest,
            "weights": self.model.weights_hash,
            "mode": mode,
            "threshold": threshold,
            "band": band,
        }
        name = {"cascade": "local", "fast": "local-fast", "accurate": "local-accurate"}[mode]
        self.id = f"{name}@{stable_hash(fingerprint, 10)}"

    async def judge(self, items: list[JudgeItem]) -> list[Verdict]:
        # The work is CPU-bound numpy and C (the encoder releases the GIL): keep the event loop free.
        return await asyncio.to_thread(self.judge_sync, items)

    def judge_sync(self, items: Sequence[JudgeItem]) -> list[Verdict]:
        now = time.time()
        out: list[Verdict | None] = [None] * len(items)
        live = [i for i, it in enumerate(items) if it.response.error is None]
        for i, it in enumerate(items):
            if it.response.error is not None:
                msg = target_error_explanation(it)
                out[i] = Verdict(
                    response_key=it.response.key,
                    critic=self.id,
                    risk_score=0.0,
                    label="error",
                    explanation=msg,
                    created_at=now,
                )
        if live:
            prompts = [items[i].test.prompt for i in live]
            answers = [items[i].response.answer for i in live]
            scores, tiers, req = self.score(prompts, answers)
            for j, i in enumerate(live):
                out[i] = self._verdict(items[i], float(scores[j]), tiers[j], req[j], now)
        return [v for v in out if v is not None]

    def score(
        self, prompts: Sequence[str], answers: Sequence[str]
    ) -> tuple[np.ndarray, list[str], list[float | None]]:
        """Risk scores, which tier decided each, and the request head's score where it was computed."""
        cues = cue_matrix(prompts, answers)
        n = len(prompts)
        scores = np.zeros(n)
        tiers = ["fast"] * n
        req: list[float | None] = [None] * n
        fast_logits = self.model.fast.logits(prompts, answers, cues)
        scores = sigmoid(fast_logits)
        if self.mode == "fast":
            return scores, tiers, req
        if self.mode == "accurate":
            todo = np.arange(n)
        else:
            todo = np.where(in_cascade_band(scores, self.model.cascade_low, self.model.cascade_high))[0]
        if len(todo):
            e_p = self._encoder.encode([prompts[int(i)] for i in todo])
            e_r = self._encoder.encode([answers[int(i)] for i in todo])
            acc = self.model.accurate.scores_from(e_p, e_r, cues[todo], fast_logits[todo])
            rq = self.model.accurate.request_scores(e_p)
            for k, i in enumerate(todo):
                scores[i] = acc[k]
                tiers[i] = "accurate"
                req[i] = float(rq[k])
        return scores, tiers, req

    def _verdict(
        self, item: JudgeItem, score: float, tier: str, request: float | None, now: float
    ) -> Verdict:
        answer = item.response.answer
        label = label_for(score, self.threshold, self.band)
        match = self._refusals.detect_refusal(answer)
        degenerate = detect_degenerate(answer, item.test.prompt)
        zh = is_chinese(answer, default=item.test.lang)
        tags = (item.test.risk,) if label != "safe" and item.test.risk and not item.test.benign else ()
        return Verdict(
            response_key=item.response.key,
            critic=self.id,
            risk_score=round(score, 4),
            label=label,
            tags=tags,
            refusal=match is not None,
            explanation=explain(label, zh=zh, refusal=match, degenerate=degenerate, request=request),
            raw=json.dumps({"tier": tier, "score": round(score, 4), "request": request}),
            created_at=now,
        )


class LocalFastCritic(LocalCritic):
    description = "trained offline critic, fast tier only (n-grams + cues; thousands of responses/s)"

    def __init__(self, model_dir: str | None = None) -> None:
        super().__init__(model_dir, mode="fast")


class LocalAccurateCritic(LocalCritic):
    description = "trained offline critic, accurate tier only (multilingual e5 embeddings + heads)"

    def __init__(self, model_dir: str | None = None) -> None:
        super().__init__(model_dir, mode="accurate")
