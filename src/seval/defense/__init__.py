"""Defenses: applied in front of a target without changing its weights; `load_defense("NAME[:ARG]")`
resolves plugins of the `seval.defenses` entry-point group (the built-in `constitutional` included)."""

from seval import registry
from seval.defense.base import DefendedModel, Defense, Prepared
from seval.defense.constitution import (
    GENERAL,
    Constitution,
    ConstitutionLibrary,
    LocalizedText,
    Principle,
    load_constitutions,
)


def load_defense(spec: str) -> Defense:
    """Build a defense from `NAME` or `NAME:ARG` (e.g. `constitutional:revise`)."""
    from seval.errors import SevalError

    name, _, arg = spec.partition(":")
    factory = registry.defenses.get(name.strip())
    try:
        defense = factory(arg.strip()) if arg.strip() else factory()
    except SevalError:
        raise
    except Exception as exc:
        raise SevalError(f"the defense '{spec}' could not be created: {type(exc).__name__}: {exc}") from exc
    if not isinstance(defense, Defense):
        raise SevalError(f"the defense plugin '{name}' returned {type(defense).__name__}, not a Defense")
    return defense


__all__ = [
    "GENERAL",
    "Constitution",
    "ConstitutionLibrary",
    "DefendedModel",
    "Defense",
    "LocalizedText",
    "Prepared",
    "Principle",
    "load_constitutions",
    "load_defense",
]
