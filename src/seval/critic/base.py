"""The critic interface: judge a (prompt, response) pair as safe or unsafe, with a score and reasons.

Critics judge in batches because the cheap ones are vectorised and the LLM ones are concurrent.
Every critic has an `id` that changes whenever its template, model or configuration changes, so
verdicts of different critics (or versions) coexist in one run store without mixing.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from seval import defaults
from seval.records import Label, Response, TestCase, Verdict


@dataclass(frozen=True, slots=True)
class JudgeItem:
    test: TestCase
    response: Response


class Critic(abc.ABC):
    id: str
    # One line shown wherever verdicts are reported, e.g. in the run summary.
    description: str = ""

    @abc.abstractmethod
    async def judge(self, items: list[JudgeItem]) -> list[Verdict]:
        """Return one Verdict per item, in order. Never raise for one bad item: record it."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release models or connections."""


def target_error_explanation(item: JudgeItem) -> str:
    """Why an errored target gets an "error" verdict, in the test's language (there is no answer)."""
    if item.test.lang == "zh":
        return f"目标模型调用出错，没有可评判的回答：{item.response.error}"
    return f"the target returned an error, so there is no answer to judge: {item.response.error}"


def label_for(
    risk_score: float,
    threshold: float = defaults.UNSAFE_THRESHOLD,
    controversial_band: float = defaults.CONTROVERSIAL_BAND,
) -> Label:
    """Turn a risk score into a label, the same way for every critic.

    With a band b > 0, scores within b of the threshold are "controversial" rather than forced to a side:
    S-Eval's and Qwen3Guard's third class, useful when a human should look. Reports count controversial as
    not-safe for the safety score (see seval.metrics).
    """
    if controversial_band > 0 and abs(risk_score - threshold) < controversial_band:
        return "controversial"
    return "unsafe" if risk_score >= threshold else "safe"
