"""Plugin registries: built-ins and third-party packages come through the same door.

A registry maps a name to a factory. Built-ins are declared as entry points in seval's own
pyproject.toml, exactly as a third-party package would declare theirs, so that listing works without
importing every plugin and a broken third-party plugin fails only when it is used.

    [project.entry-points."seval.attacks"]
    my_attack = "my_pkg.attacks:MyAttack"
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from seval.errors import SevalError, UnknownNameError

T = TypeVar("T")

GROUPS = {
    "models": "seval.models",
    "attacks": "seval.attacks",
    "critics": "seval.critics",
    "defenses": "seval.defenses",
}


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.group = GROUPS[kind]
        self._loaded: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Register a plugin in-process (handy in tests and notebooks)."""

        def deco(obj: T) -> T:
            self._loaded[name] = obj
            return obj

        return deco

    def names(self) -> list[str]:
        found = {ep.name for ep in entry_points(group=self.group)}
        return sorted(found | set(self._loaded))

    def get(self, name: str) -> T:
        if name in self._loaded:
            return self._loaded[name]
        matches = [ep for ep in entry_points(group=self.group) if ep.name == name]
        if not matches:
            known = ", ".join(self.names()) or "none"
            raise UnknownNameError(f"unknown {self.kind[:-1]} '{name}' (known: {known})")
        try:
            obj: T = matches[0].load()
        except ImportError as exc:
            raise SevalError(
                f"the {self.kind[:-1]} plugin '{name}' could not be loaded: {exc}",
                hint=f"is the package providing entry point {matches[0].value} installed?",
            ) from exc
        self._loaded[name] = obj
        return obj


models: Registry[Callable[..., object]] = Registry("models")
attacks: Registry[Callable[..., object]] = Registry("attacks")
critics: Registry[Callable[..., object]] = Registry("critics")
defenses: Registry[Callable[..., object]] = Registry("defenses")
