"""The run file: a YAML description of an evaluation, validated with errors a person can act on.

    suite: [seed]                # "seed" (built-in), suite JSONL files, or S-Eval/CSV/Parquet files
    limit: 48                    # stratified sample over risk dimensions and languages
    langs: [zh, en]
    targets:
      - llamacpp:default
      - model: openai-compatible:qwen2.5-7b@http://127.0.0.1:8000/v1
        api_key_env: MY_SERVER_KEY
        max_concurrency: 64
    generation:                  # a grid: every combination is evaluated
      temperature: [0.0, 0.7]
      max_tokens: 256
    critic: local
    defenses: [constitutional:system]   # each target is also evaluated behind each defense
    constitutions: [my_principles.yaml] # extend/replace the built-in per-risk principles
    budget: {max_requests: 5000}

CLI flags override the file; everything not set falls back to `seval.defaults`.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from seval import defaults
from seval.errors import ConfigError
from seval.models import TargetConfig
from seval.records import GenerationConfig


def _default_targets() -> list[str | TargetConfig]:
    return [defaults.DEFAULT_TARGET]


class GenerationGrid(BaseModel):
    """Decoding parameters; a list for temperature/top_p/seed makes a sweep."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | list[float] = defaults.TEMPERATURE
    top_p: float | list[float] = defaults.TOP_P
    max_tokens: int | None = None
    seed: int | list[int | None] | None = None
    stop: list[str] = Field(default_factory=list)
    system_prompt: str | None = None

    def expand(self) -> list[GenerationConfig]:
        def as_list(v: Any) -> list[Any]:
            return v if isinstance(v, list) else [v]

        out = []
        for t, p, s in itertools.product(as_list(self.temperature), as_list(self.top_p), as_list(self.seed)):
            out.append(
                GenerationConfig(
                    temperature=t,
                    top_p=p,
                    seed=s,
                    max_tokens=self.max_tokens,
                    stop=tuple(self.stop),
                    system_prompt=self.system_prompt,
                )
            )
        return out


class BudgetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_requests: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    suite: list[str] = Field(default_factory=lambda: ["seed"])
    limit: int | None = Field(default=None, ge=1)
    sample_seed: int = defaults.SAMPLE_SEED
    langs: list[str] | None = None
    include_benign: bool = True
    taxonomy: list[Path] = Field(default_factory=list)
    targets: list[str | TargetConfig] = Field(default_factory=lambda: _default_targets())
    generation: GenerationGrid | list[GenerationGrid] = Field(default_factory=GenerationGrid)
    # Attacks derive adversarial prompts from the (sampled) risky base prompts; base prompts stay in.
    attacks: list[str] | None = None
    attack_seed: int = 0
    rewriter: str | None = None  # model for the LLM-assisted attack forms
    critic: str = defaults.DEFAULT_CRITIC
    # Defenses (seval.defenses plugins, e.g. "constitutional:system"): every target is evaluated as is
    # and behind each defense, and benign contrast prompts are added to measure over-refusal.
    defenses: list[str] | None = None
    # YAML files that extend or replace the built-in constitutions (see seval.defense.constitution).
    constitutions: list[Path] = Field(default_factory=list)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    cache: Literal["auto", "on", "off"] = "auto"
    retry_errors: bool = True
    max_retries: int = Field(default=defaults.MAX_RETRIES, ge=0)
    request_timeout_s: float = Field(default=defaults.REQUEST_TIMEOUT_S, gt=0)
    out: Path | None = None
    runs_dir: Path = Field(default_factory=lambda: defaults.RUNS_DIR)
    shard: str | None = None  # "i/n": only this shard of the units (for distributed execution)

    @field_validator("cache", mode="before")
    @classmethod
    def _cache(cls, v: Any) -> Any:
        # YAML 1.1 reads a bare `off`/`on` as a boolean; that is what the user meant.
        if isinstance(v, bool):
            return "on" if v else "off"
        return v

    @field_validator("attacks", mode="before")
    @classmethod
    def _attacks(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v

    @field_validator("defenses", mode="before")
    @classmethod
    def _defenses(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [x.strip() for x in v.split(",") if x.strip()]
        return v

    @field_validator("langs")
    @classmethod
    def _langs(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            bad = [x for x in v if x not in defaults.LANGUAGES]
            if bad:
                raise ValueError(f"unsupported language(s) {bad}; choose from {list(defaults.LANGUAGES)}")
        return v

    @field_validator("shard")
    @classmethod
    def _shard(cls, v: str | None) -> str | None:
        if v is not None:
            i, sep, n = v.partition("/")
            if not (sep and i.isdigit() and n.isdigit() and 0 <= int(i) < int(n)):
                raise ValueError("shard must look like 'i/n' with 0 <= i < n")
        return v

    def generation_configs(self) -> list[GenerationConfig]:
        grids = self.generation if isinstance(self.generation, list) else [self.generation]
        configs: dict[str, GenerationConfig] = {}
        for g in grids:
            for c in g.expand():
                configs.setdefault(c.id, c)
        return list(configs.values())

    def target_configs(self) -> list[TargetConfig]:
        return [TargetConfig(model=t) if isinstance(t, str) else t for t in self.targets]

    def shard_tuple(self) -> tuple[int, int] | None:
        if not self.shard:
            return None
        i, _, n = self.shard.partition("/")
        return int(i), int(n)


def format_validation_error(source: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    return f"{source}: " + "; ".join(parts)


def load_run_config(path: Path | None, overrides: dict[str, Any] | None = None) -> RunConfig:
    data: dict[str, Any] = {}
    source = "command line"
    if path is not None:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read run file {path}: {exc.strerror or exc}") from exc
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{path}:{where} invalid YAML ({getattr(exc, 'problem', exc)})") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{path}: a run file must be a mapping of settings, not {type(loaded).__name__}"
            )
        data = loaded
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    try:
        return RunConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from exc
