"""Dynamic separation of duties on role activation (NIST RBAC §5.3.2, RULES.md DSD).

A role the policy marks ``activation: session`` is held but inactive until its holder
activates it for one login session. A DSD constraint ``(roles, n)`` refuses the activation
that would make ``n`` roles of ``roles`` active in the same session; the same person may
activate them in separate sessions. This module decides; the access app persists and
records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from backoffice.core.errors import N_
from backoffice.core.spec import RoleSetConstraint

__all__ = ["DsdSpec", "DsdRefusal", "judge_activation", "DSD_DENIAL_CODES"]

DSD_DENIAL_CODES = {
    "access.dsd": N_("activating the role would break a dynamic separation-of-duties constraint"),
    "access.not_session_role": N_("the role is not one that is activated per session"),
    "access.not_held": N_("the person does not hold the role"),
}


class DsdSpec(RoleSetConstraint):
    """NIST RBAC DSD ``(roles, n)``: no session activates ``n`` or more of ``roles``."""

    KIND: ClassVar[str] = "a DSD"


@dataclass(frozen=True)
class DsdRefusal:
    """The constraint an activation would break, and the roles of its set then active."""

    constraint: str
    name: str
    n: int
    active: tuple[str, ...]

    @property
    def message(self) -> str:
        return (
            f"Activating the role would break dynamic separation of duties — "
            f"{self.constraint} ({self.name}) allows fewer than {self.n} of its roles in one "
            f"session: {', '.join(self.active)}."
        )


def judge_activation(
    active: Iterable[str], role: str, constraints: Iterable[DsdSpec]
) -> DsdRefusal | None:
    """None when ``role`` may join the session's ``active`` roles, else the first
    constraint (in policy order) it would break. Activating an active role changes nothing."""
    after = set(active) | {role}
    for constraint in constraints:
        if role not in constraint.roles:
            continue
        inside = tuple(r for r in constraint.roles if r in after)
        if len(inside) >= constraint.n:
            return DsdRefusal(constraint.id, constraint.name, constraint.n, inside)
    return None
