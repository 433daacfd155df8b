"""The critic interface: judge a (prompt, response) pair as safe or unsafe, with a score and reasons.

Critics judge in batches because the cheap ones are vectorised and the LLM ones are concurrent.
Every critic has an `id` that changes whenever its template, model or configuration changes, so
verdicts of different critics (or versions) coexist in one run store without mixing.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from seval.records import Response, TestCase, Verdict


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
