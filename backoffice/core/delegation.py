"""Acting for someone adds their functions to one's own (#13).

A substitute acts on a case's step in place of the principal when the principal qualifies
for it (``four_eyes``). On that step the substitute exercises the principal's authority:
the permissions the step names that the principal holds (and, for a step naming roles,
the permissions of those roles). Together with the substitute's own functions that may be
a risk combination of the policy (SOD-1): a market officer who enters payments releasing
one for the head of settlement holds payment entry and release.

- When a delegation is created, the substitute's own permissions plus everything they
  could exercise for the principal on any step are judged by the access rules, on every
  day of the delegation (:mod:`backoffice.core.access_time`): a critical risk is refused,
  a high one refused or left to compliance as the policy says.
- When the substitute acts, the step's function is judged with their functions that day,
  which catches delegations made before the rule and roles granted afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from backoffice.core.access import AccessRules, Assessment
from backoffice.core.access_time import PeriodAssessment, Timeline, assess_over
from backoffice.core.processes import WhoSpec

if TYPE_CHECKING:
    from backoffice.core.accessrisk import RiskChange

__all__ = [
    "ActingRules",
    "exercised_permissions",
    "delegable_permissions",
    "assess_delegation_over",
    "delegation_verdict",
    "acting_risks",
    "same_person",
]

#: Risk levels a substitute may never take on by acting for someone (without approval).
BLOCKING = ("critical", "high")


def same_person(a: str, b: str) -> bool:
    """Usernames name one person regardless of case (``Lena.Schulz`` is ``lena.schulz``)."""
    return a.strip().casefold() == b.strip().casefold()


@dataclass(frozen=True)
class ActingRules:
    """What the act-time check needs besides the people: the rule set, each role's
    permissions (contained roles included), and the risks mitigated for the actor today."""

    rules: AccessRules
    role_permissions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    mitigated: frozenset[str] = frozenset()


def exercised_permissions(
    who: WhoSpec,
    permissions: Iterable[str],
    roles: Iterable[str],
    role_permissions: Mapping[str, frozenset[str]],
) -> frozenset[str]:
    """The principal's permissions a step ``who`` lets a substitute use in their place."""
    held = frozenset(permissions)
    used = held.intersection(who.permissions)
    for role in set(roles).intersection(who.roles):
        used |= role_permissions.get(role, frozenset())
    return used


def delegable_permissions(
    steps: Iterable[WhoSpec],
    permissions: Iterable[str],
    roles: Iterable[str],
    role_permissions: Mapping[str, frozenset[str]],
) -> frozenset[str]:
    """Everything a substitute could exercise for the principal on any step (a superset:
    lines and units, which carry no permission, are not asked)."""
    held, named = frozenset(permissions), frozenset(roles)
    found: frozenset[str] = frozenset()
    for who in steps:
        found |= exercised_permissions(who, held, named, role_permissions)
    return found


def assess_delegation_over(
    rules: AccessRules,
    substitute: Timeline,
    principal: Timeline,
    start: date,
    end: date | None,
    permissions_of: Callable[[Iterable[str]], frozenset[str]],
    delegable: Callable[[Iterable[str]], frozenset[str]],
    principal_name: str = "the principal",
) -> PeriodAssessment:
    """The substitute's own permissions plus what they could exercise for the principal,
    on every day of ``[start, end)`` on which the roles of either or the substitute's
    mitigations change. ``permissions_of`` and ``delegable`` map held roles to permissions."""
    changes = substitute.changes()
    for day, what in Timeline(roles=principal.roles).changes(principal_name).items():
        changes.setdefault(day, []).extend(what)

    def judge(day: date) -> Assessment:
        return rules.assess_permissions(
            permissions_of(substitute.roles_on(day)),
            delegable(principal.roles_on(day)),
            substitute.mitigated_on(day),
        )

    return assess_over(start, end, changes, judge)


def delegation_verdict(period: PeriodAssessment, high: str) -> tuple[str, str] | None:
    """``(code, message)`` refusing a delegation, or None. Critical risks are refused; high
    ones too (``high``: ``refuse``), unless the policy leaves them to compliance
    (``compliance``: ask for a ``delegation`` case; ``approved``: that case). The message
    names the risks and nothing of either person's access."""
    critical = sorted(
        {r.risk for d in period.days for r in d.assessment.gained if r.level == "critical"}
    )
    if critical:
        return (
            "delegation.access_risk",
            "Acting for the absent person would give the substitute a critical access risk: "
            f"{', '.join(critical)}. Name another substitute.",
        )
    high_risks = sorted(r for r, level in period.open_risks().items() if level == "high")
    if not high_risks or high == "approved":
        return None
    if high == "compliance":
        return (
            "delegation.approval_required",
            "Acting for the absent person would give the substitute a high access risk: "
            f"{', '.join(high_risks)}. Compliance must approve it: start a delegation case.",
        )
    return (
        "delegation.access_risk",
        "Acting for the absent person would give the substitute a high access risk: "
        f"{', '.join(high_risks)}. Name another substitute.",
    )


def acting_risks(
    rules: AccessRules,
    own: Iterable[str],
    exercised: Iterable[str],
    allowed: Iterable[str] = (),
) -> tuple[RiskChange, ...]:
    """Critical and high risks that ``own`` permissions plus ``exercised`` ones make and
    ``own`` alone do not, except the ``allowed`` ones (mitigated, or approved by
    compliance for this delegation; a critical risk is never allowed)."""
    permitted = set(allowed)
    gained = rules.assess_permissions(own, exercised).gained
    return tuple(
        r
        for r in gained
        if r.level in BLOCKING and (r.level == "critical" or r.risk not in permitted)
    )
