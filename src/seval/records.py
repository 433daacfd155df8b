"""Typed records that flow one way through the pipeline.

taxonomy -> TestCase -> (attack) TestCase -> Response -> Verdict -> metrics

Every record that is persisted has a content-derived key, so each stage is idempotent: running it twice
writes nothing new, and a crashed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "user", "assistant"]
Label = Literal["safe", "unsafe", "controversial", "error"]


def stable_hash(obj: Any, length: int = 16) -> str:
    """A short, stable hex digest of any JSON-serialisable object (key order does not matter)."""
    data = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()[:length]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", exclude_none=False))


class RiskNode(Record):
    """One node of the risk taxonomy (level 1 = dimension, 2 = category, 3+ = finer risks)."""

    id: str
    parent: str | None = None
    level: int = Field(ge=1, le=6)
    name_en: str
    name_zh: str
    description: str = ""
    description_zh: str = ""
    # Labels used by other datasets for this node (e.g. S-Eval's `risk_type` values).
    aliases: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not v or any(c.isspace() for c in v):
            raise ValueError("risk id must be non-empty and contain no whitespace")
        return v


class TestCase(Record):
    """A prompt to put to a target, with its language, risk and lineage."""

    __test__ = False  # not a pytest test class

    id: str
    lang: str
    risk: str
    prompt: str
    origin: str = "custom"  # e.g. "seed", "s-eval:base_risk", "s-eval:attack", "generated", "attack"
    parent_id: str | None = None
    attack: str | None = None
    attack_variant: str | None = None
    # True when the prompt sounds risky but must be answered (over-refusal contrast).
    benign: bool = False
    # Links a prompt to its translation (S-Eval's `from_traceid`).
    pair_id: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @staticmethod
    def make_id(lang: str, prompt: str, attack: str | None = None, parent_id: str | None = None) -> str:
        return stable_hash({"lang": lang, "prompt": prompt, "attack": attack, "parent": parent_id})


class Message(Record):
    role: Role
    content: str


class GenerationConfig(Record):
    """Decoding parameters; `id` keys responses so a sweep over configs never mixes results."""

    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: tuple[str, ...] = ()
    system_prompt: str | None = None

    @property
    def id(self) -> str:
        return stable_hash(self.model_dump(mode="json"), 12)

    def label(self) -> str:
        parts = [f"T={self.temperature:g}", f"top_p={self.top_p:g}"]
        if self.max_tokens:
            parts.append(f"max={self.max_tokens}")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        if self.system_prompt:
            parts.append("sys")
        return " ".join(parts)


class ModelOutput(Record):
    """What one model call returned."""

    text: str
    reasoning: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    latency_s: float = 0.0
    # Log-probabilities of the first generated tokens, when the backend returned them (critics use it).
    top_logprobs: list[dict[str, float]] | None = None
    cached: bool = False


class Response(Record):
    """A target's answer (or its final error) to one test case under one generation config."""

    key: str
    test_id: str
    target: str
    config_id: str
    answer: str = ""
    reasoning: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    finish_reason: str | None = None
    error: str | None = None
    attempts: int = 1
    cached: bool = False
    created_at: float = 0.0

    @staticmethod
    def make_key(test_id: str, target: str, config_id: str) -> str:
        return stable_hash({"t": test_id, "m": target, "c": config_id}, 24)

    @property
    def ok(self) -> bool:
        return self.error is None


class Verdict(Record):
    """A critic's judgement of one response."""

    response_key: str
    critic: str  # critic id, including a hash of its template/model/config
    risk_score: float = Field(ge=0.0, le=1.0)
    label: Label
    tags: tuple[str, ...] = ()
    refusal: bool | None = None
    explanation: str = ""
    raw: str | None = None
    parse_error: str | None = None
    created_at: float = 0.0
