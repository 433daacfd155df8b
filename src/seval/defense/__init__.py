"""The constitutional defense: per-risk safety principles given to a target without changing its weights."""

from seval.defense.constitution import (
    GENERAL,
    Constitution,
    ConstitutionLibrary,
    LocalizedText,
    Principle,
    load_constitutions,
)

__all__ = [
    "GENERAL",
    "Constitution",
    "ConstitutionLibrary",
    "LocalizedText",
    "Principle",
    "load_constitutions",
]
