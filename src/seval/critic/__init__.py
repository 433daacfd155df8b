"""Critics judge (prompt, response) pairs; this package holds the interface and the built-in critics.

Critics are plugins (entry-point group `seval.critics`), so a run names one by string and this module
turns the name into an instance. Importing the package stays cheap: no critic is imported until used.
"""

from __future__ import annotations

from seval import registry
from seval.critic.base import Critic, JudgeItem
from seval.errors import SevalError

__all__ = ["Critic", "JudgeItem", "describe", "load_critic"]


def load_critic(name: str) -> Critic:
    """Resolve `name` through the critic registry and instantiate it with no arguments.

    Raises UnknownNameError for a name no registry knows, and SevalError (one clear line for the CLI)
    when the plugin cannot be built or is not a Critic.
    """
    factory = registry.critics.get(name)
    try:
        critic = factory()
    except SevalError:
        raise
    except Exception as exc:
        raise SevalError(
            f"the critic '{name}' could not be created: {type(exc).__name__}: {exc}",
            hint="does it need arguments? critics loaded by name are built with none",
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
        factory = registry.critics.get(critic)
        text = getattr(factory, "description", "")
        if isinstance(text, str) and text:
            return f"{critic}: {text}"
        critic = load_critic(critic)
    return f"{critic.id}: {critic.description}" if critic.description else critic.id
