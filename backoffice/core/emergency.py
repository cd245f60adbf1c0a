"""Emergency access (break-glass, firefighter; #15 part 2): who may take a role at once.

DORA RTS 2024/1774 Art. 21 asks for emergency access on a need-to-use basis; RULES.md
RECERT-2 says break-glass grants expire (default at most 24 h) and are reviewed after use.
The policy's ``access.emergency`` section lists, per role, the people who may take it
without a case, for how long at most, and whether a critical access risk is tolerated:

- EMERG-1: only a listed person takes the role at once, with a reason, for no longer than
  the maximum; everyone else asks through a ``role-grant`` case;
- EMERG-2: a session ends by itself at its end: it is judged at every check (the facts
  read only sessions whose end is still ahead), so a server that was down then changes
  nothing;
- EMERG-3: the person's roles plus the emergency role may not form a *critical* access
  risk unless the policy allows it for that role (``allow_critical``);
- EMERG-4: a controller who is not the person reviews the session's log within
  ``review_days`` of its end; an unreviewed session past that is overdue.

Everything here is pure: the services hand in the person, the roles and the risks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from backoffice.core.spec import Key, Permission, Spec

__all__ = [
    "MAX_HOURS",
    "EmergencyRoleSpec",
    "EmergencySpec",
    "EMERGENCY_DENIAL_CODES",
    "REVIEW_PERMISSION",
    "emergency_problems",
    "StartRefusal",
    "start_refusal",
    "review_refusal",
    "session_state",
    "review_due",
    "tag",
]

#: RECERT-2: a break-glass grant lasts 24 hours at most (a policy may say less)
MAX_HOURS = 24

#: the permission of a controller who reviews emergency sessions (EMERG-4)
REVIEW_PERMISSION = "access.emergency.review"

EMERGENCY_DENIAL_CODES = {
    "emergency.not_listed": "not on the emergency list for the role: ask through a case",
    "emergency.too_long": "longer than the policy's maximum for the role",
    "emergency.critical_risk": "the role would create a critical access risk",
    "emergency.already_active": "the person already holds the role in an emergency session",
    "emergency.self_review": "nobody reviews their own emergency session",
    "emergency.forbidden": "only a controller reviews emergency sessions",
    "emergency.still_active": "a session is reviewed once it has ended",
    "emergency.already_reviewed": "the session has been reviewed",
}


class EmergencyRoleSpec(Spec):
    """One role that may be taken in an emergency, and by whom."""

    role: Key
    people: Annotated[list[Key], Field(min_length=1)]
    #: at most this long (default: the section's ``max_hours``)
    max_hours: Annotated[int, Field(ge=1, le=MAX_HOURS)] | None = None
    #: EMERG-3: tolerate a critical access risk for this role (a firefighter's admin role)
    allow_critical: bool = False


class EmergencySpec(Spec):
    """``access.emergency``: the emergency list, the longest session, the review period."""

    max_hours: Annotated[int, Field(ge=1, le=MAX_HOURS)] = 4
    review_days: Annotated[int, Field(ge=1, le=90)] = 3
    #: who reviews: a person holding this permission, never the session's person
    reviewer_permission: Permission = REVIEW_PERMISSION
    roles: list[EmergencyRoleSpec] = []

    def for_role(self, role: str) -> EmergencyRoleSpec | None:
        return next((r for r in self.roles if r.role == role), None)

    def max_minutes(self, role: EmergencyRoleSpec) -> int:
        return 60 * (role.max_hours if role.max_hours is not None else self.max_hours)


def emergency_problems(
    spec: EmergencySpec, roles: Iterable[str], people: Iterable[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """References of the section: roles and people exist, each role is listed once."""
    known_roles, known_people = set(roles), set(people)
    seen: set[str] = set()
    for index, entry in enumerate(spec.roles):
        where: tuple[str | int, ...] = ("emergency", "roles", index)
        if entry.role in seen:
            yield (*where, "role"), f"role {entry.role!r} is listed twice for emergency access"
        seen.add(entry.role)
        if entry.role not in known_roles:
            yield (*where, "role"), f"unknown role {entry.role!r}"
        for position, person in enumerate(entry.people):
            if person not in known_people:
                yield (*where, "people", position), f"unknown person {person!r}"
        if entry.max_hours is not None and entry.max_hours > spec.max_hours:
            yield (
                (*where, "max_hours"),
                f"emergency access: {entry.max_hours} h for {entry.role!r} is longer than the "
                f"section's max_hours ({spec.max_hours} h)",
            )


@dataclass(frozen=True)
class StartRefusal:
    code: str
    message: str


def start_refusal(
    spec: EmergencySpec | None,
    person: str,
    role: str,
    minutes: int,
    *,
    held: Iterable[str],
    critical_risks: Iterable[str],
    active_roles: Iterable[str] = (),
) -> StartRefusal | None:
    """Why ``person`` may not take ``role`` for ``minutes`` now, or None (EMERG-1, -3).

    ``held`` are the roles the person holds (expanded), ``critical_risks`` the critical
    risks holding ``role`` besides them would create, ``active_roles`` the roles of their
    emergency sessions still running.
    """
    entry = spec.for_role(role) if spec is not None else None
    if spec is None or entry is None or person not in entry.people:
        return StartRefusal(
            "emergency.not_listed",
            f"{person} is not on the emergency list for role {role!r}: ask for it through a "
            f"role-grant case (EMERG-1).",
        )
    if role in set(held) or role in set(active_roles):
        return StartRefusal(
            "emergency.already_active", f"{person} already holds role {role!r} (EMERG-1)."
        )
    limit = spec.max_minutes(entry)
    if minutes > limit:
        return StartRefusal(
            "emergency.too_long",
            f"Emergency access to {role!r} lasts at most {limit} minutes, not {minutes} "
            f"(EMERG-1, RECERT-2).",
        )
    critical = sorted(set(critical_risks))
    if critical and not entry.allow_critical:
        return StartRefusal(
            "emergency.critical_risk",
            f"Role {role!r} with {person}'s roles would create a critical access risk: "
            f"{', '.join(critical)}; the policy does not allow it in an emergency (EMERG-3).",
        )
    return None


def review_refusal(
    person: str, reviewer: str, reviewer_permissions: Iterable[str], spec_permission: str
) -> StartRefusal | None:
    """EMERG-4: a controller (``spec_permission``) who is not the session's person."""
    if reviewer == person:
        return StartRefusal(
            "emergency.self_review",
            f"{reviewer} cannot review their own emergency session (EMERG-4).",
        )
    if spec_permission not in set(reviewer_permissions):
        return StartRefusal(
            "emergency.forbidden",
            f"Only a controller ({spec_permission}) reviews emergency sessions (EMERG-4).",
        )
    return None


def review_due(ends_at: datetime, review_days: int) -> datetime:
    """The moment by which the session's log must be reviewed (EMERG-4)."""
    return ends_at + timedelta(days=review_days)


def session_state(
    started_at: datetime,
    ends_at: datetime,
    reviewed: bool,
    due: datetime,
    now: datetime,
) -> str:
    """``active`` while ``started_at <= now < ends_at`` (EMERG-2), then ``reviewed``,
    ``overdue`` past the review's due moment, or ``unreviewed``."""
    if started_at <= now < ends_at:
        return "active"
    if reviewed:
        return "reviewed"
    return "overdue" if now >= due else "unreviewed"


def tag(session_id: int) -> str:
    """The mark every audit event done under the session carries in its reason."""
    return f"[emergency:{session_id}]"
