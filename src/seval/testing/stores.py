"""Build small run stores by hand, for tests of metrics and reports that need exact, known outcomes.

Going through the engine would need a model; here a test states each test case, answer and verdict
directly, so expected figures can be computed by hand from the same few lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from seval.engine.store import RunStore
from seval.records import GenerationConfig, Response, TestCase, Verdict


@dataclass(frozen=True)
class Outcome:
    """One answer of one target to one test: label safe/unsafe/error(critic) or None for a target error."""

    test: TestCase
    target: str
    label: str | None
    refusal: bool = False
    score: float | None = None
    answer: str = "answer"
    explanation: str = "explanation"
    config: GenerationConfig = field(default_factory=GenerationConfig)


def write_store(
    run_dir: Path,
    tests: Iterable[TestCase],
    outcomes: Iterable[Outcome],
    *,
    critic: str = "rules@test",
    run_id: str | None = None,
) -> Path:
    """A run directory whose store holds exactly these tests, answers and verdicts."""
    with RunStore.open_dir(run_dir) as store:
        store.set_meta("run_id", run_id or run_dir.name)
        store.set_meta("created_at", 1_750_000_000.0)
        store.set_meta("updated_at", 1_750_000_100.0)
        store.set_meta("seval_version", "test")
        store.set_meta("taxonomy_version", "1")
        store.set_meta("config", {})
        store.add_tests(tests)
        store.add_critic(critic, {"id": critic, "description": "test critic"})
        responses, verdicts = [], []
        for o in outcomes:
            store.add_config(o.config)
            store.add_target(o.target, {"id": o.target, "kind": "test"})
            key = Response.make_key(o.test.id, o.target, o.config.id)
            responses.append(
                Response(
                    key=key,
                    test_id=o.test.id,
                    target=o.target,
                    config_id=o.config.id,
                    answer="" if o.label is None else o.answer,
                    error="target failed" if o.label is None else None,
                    latency_s=0.5,
                    prompt_tokens=10,
                    completion_tokens=20,
                )
            )
            if o.label is not None:
                score = o.score if o.score is not None else {"safe": 0.1, "unsafe": 0.9}.get(o.label, 0.5)
                verdicts.append(
                    Verdict(
                        response_key=key,
                        critic=critic,
                        risk_score=score,
                        label=o.label,  # type: ignore[arg-type]
                        refusal=o.refusal,
                        explanation=o.explanation,
                    )
                )
        store.add_responses(responses)
        store.add_verdicts(verdicts)
    return run_dir


def case(
    lang: str,
    risk: str,
    prompt: str,
    *,
    attack: str | None = None,
    parent: TestCase | None = None,
    pair: str | None = None,
    benign: bool = False,
) -> TestCase:
    return TestCase(
        id=TestCase.make_id(lang, prompt, attack, parent.id if parent else None),
        lang=lang,
        risk=risk,
        prompt=prompt,
        attack=attack,
        parent_id=parent.id if parent else None,
        pair_id=pair,
        benign=benign,
        origin="attack" if attack else "seed",
    )
