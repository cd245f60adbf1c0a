"""What the rules need to know about a person, as plain data handed in by the services."""

from __future__ import annotations

from dataclasses import dataclass, field

from backoffice.core.money import Money
from backoffice.core.org import Line

__all__ = ["ActorFacts"]


@dataclass(frozen=True)
class ActorFacts:
    """A person on one day: where they work, what they hold, how much they may decide."""

    person: str
    name: str = ""
    lines: frozenset[Line] = field(default_factory=frozenset)
    units: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    competence: Money | None = None
    board_member: bool = False
    active: bool = True
