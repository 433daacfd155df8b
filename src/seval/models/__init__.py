"""Model adapters, resolved from strings such as `llamacpp:default` or
`openai-compatible:NAME@http://127.0.0.1:8000/v1`.

The part before the first colon picks a factory from the `seval.models` registry; the rest is handed to
it. There is no fallback: a spec that does not resolve is an error, never a quiet switch to another
provider.
"""

from __future__ import annotations

from pydantic import ConfigDict

from seval import registry
from seval.errors import ConfigError
from seval.models.base import ChatModel, TargetOptions

__all__ = ["ChatModel", "TargetConfig", "TargetOptions", "load_model", "parse_spec"]


class TargetConfig(TargetOptions):
    """A model as written in a run file: its spec plus options."""

    model_config = ConfigDict(extra="forbid")

    model: str


def parse_spec(spec: str) -> tuple[str, str]:
    provider, sep, name = spec.partition(":")
    if not sep or not provider or not name:
        raise ConfigError(
            f"model spec '{spec}' is not of the form PROVIDER:NAME",
            hint="e.g. llamacpp:default, openai:gpt-4o-mini, openai-compatible:NAME@http://127.0.0.1:8000/v1",
        )
    return provider, name


def load_model(target: str | TargetConfig, options: TargetOptions | None = None) -> ChatModel:
    if isinstance(target, TargetConfig):
        spec = target.model
        options = TargetOptions(**target.model_dump(exclude={"model"}))
    else:
        spec = target
    provider, name = parse_spec(spec)
    factory = registry.models.get(provider)
    model = factory(name, options or TargetOptions())
    if not isinstance(model, ChatModel):
        raise ConfigError(f"model provider '{provider}' did not return a ChatModel")
    return model
