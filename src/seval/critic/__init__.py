"""Critics judge (prompt, response) pairs; this package holds the interface and the built-in critics.

Critics are plugins (entry-point group `seval.critics`), so a run names one by string and this module
turns the name into an instance. Importing the package stays cheap: no critic is imported until used.
"""

from __future__ import annotations

from seval import registry
from seval.critic.base import Critic, JudgeItem
from seval.errors import SevalError

__all__ = ["Critic", "JudgeItem", "describe", "load_critic", "split_critic_spec"]


def split_critic_spec(spec: str) -> tuple[str, str | None]:
    """`NAME` or `NAME:ARG` -> (NAME, ARG). The argument is the critic's own business, e.g. the model
    spec of an LLM critic (`llm:openai:gpt-4o-mini`) or the server of a guard model."""
    name, sep, arg = spec.partition(":")
    return name.strip(), (arg.strip() or None) if sep else None


def load_critic(spec: str) -> Critic:
    """Resolve `NAME[:ARG]` through the critic registry and build the critic.

    The plugin's factory is called with no arguments for a bare name and with the one string ARG
    otherwise. Raises UnknownNameError for a name no registry knows, and SevalError (one clear line
    for the CLI) when the plugin cannot be built or is not a Critic.
    """
    name, arg = split_critic_spec(spec)
    factory = registry.critics.get(name)
    try:
        critic = factory() if arg is None else factory(arg)
    except SevalError:
        raise
    except Exception as exc:
        raise SevalError(
            f"the critic '{spec}' could not be created: {type(exc).__name__}: {exc}",
            hint=f"see `seval critic list` for what '{name}' expects",
        ) from exc
    if not isinstance(critic, Critic):
        raise SevalError(f"the critic plugin '{name}' returned {type(critic).__name__}, not a Critic")
    return critic


def describe(critic: Critic | str) -> str:
    """One line naming a critic and what it is, for run summaries and `critics list`.

    Given a name, the description is read from the plugin's class when it declares one, so that listing
    critics does not load models; otherwise the critic is built to ask it.
    """
    if isinstance(critic, str):
        factory = registry.critics.get(split_critic_spec(critic)[0])
        text = getattr(factory, "description", "")
        if isinstance(text, str) and text:
            return f"{critic}: {text}"
        critic = load_critic(critic)
    return f"{critic.id}: {critic.description}" if critic.description else critic.id
