"""What a released case does to the rest of the system (apply a policy, grant a role, …).

An effect is registered under the name a process's ``effect`` uses. ``check`` runs before
a case is submitted or released and returns problems that refuse the command; ``apply``
runs in the release's transaction, so the release and its effect commit together or not
at all; ``preview`` shows what the release would change (before/after) on the case page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Effect", "EffectProblem", "register", "get_effect"]


@dataclass(frozen=True)
class EffectProblem:
    code: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)


class Effect(Protocol):
    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None: ...

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]: ...


_REGISTRY: dict[str, Effect] = {}


def register(name: str, effect: Effect) -> None:
    _REGISTRY[name] = effect


def get_effect(name: str | None) -> Effect | None:
    if name is None:
        return None
    if name not in _REGISTRY:
        raise LookupError(f"no effect named {name!r} is registered")
    return _REGISTRY[name]


def registered() -> set[str]:
    return set(_REGISTRY)
