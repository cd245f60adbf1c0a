"""Access governance for people who ask: what-if simulations and the mitigation report.

Authorisation is here, not in the views: reading access risks needs ``access.risk.read``;
anyone else is refused with ``access.forbidden``, and the refusal is on record.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.access.effects import period_view
from backoffice.access.queries import (
    EXPIRING_DAYS,
    get_access_rules,
    get_grant_assessment_over,
    get_held_roles,
    get_mitigations,
)
from backoffice.audit.services import do_refuse
from backoffice.base.actor import Actor
from backoffice.core.accessrisk import UnknownRole
from backoffice.core.errors import DomainError

__all__ = [
    "READ_PERMISSION",
    "may_read_access",
    "access_risks",
    "get_simulation",
    "get_mitigation_report",
]

READ_PERMISSION = "access.risk.read"


def may_read_access(actor: Actor) -> bool:
    return READ_PERMISSION in actor.permissions


def access_risks(actor: Actor, what: str) -> None:
    """Refuse (and record) anyone without ``access.risk.read``."""
    if may_read_access(actor):
        return
    do_refuse(
        "access.forbidden",
        f"Only compliance, audit and administrators may see {what}.",
        action="access.denied",
        user=actor.user,
        object_type="access",
        object_id=what,
    )


def get_simulation(
    actor: Actor,
    person: str,
    add: list[str],
    remove: list[str],
    day: date | None = None,
    until: date | None = None,
) -> dict[str, Any]:
    """What-if (#6): the risks ``person`` gains and loses with ``add`` and without ``remove``,
    each with the roles and permissions behind it, and any SSD constraint it would break.

    Judged as a grant is (#13): from ``day`` until ``until`` (open-ended without), on every
    day the person's other assignments or mitigations change; the worst day is shown."""
    access_risks(actor, "access simulations")
    rules = get_access_rules()
    if rules is None:
        raise DomainError("access.unknown_risk", "The live policy has no access rules.")
    subject = get_user_model().objects.filter(username=person).first()
    if subject is None:
        raise DomainError(
            "access.unknown_person",
            f"There is no person {person!r}.",
            errors=[{"field": "person", "message": "unknown person"}],
        )
    day = day or timezone.localdate()
    try:
        period = get_grant_assessment_over(subject, add, day, until, remove)
    except UnknownRole as exc:
        raise DomainError(
            "access.unknown_role",
            f"There is no role {exc.role_id!r}.",
            errors=[
                {
                    "field": "add_roles" if exc.role_id in add else "remove_roles",
                    "message": "unknown role",
                }
            ],
        ) from None
    assert period is not None
    refusal = period.refusal
    worst = period.worst.day
    held = sorted(get_held_roles(subject, worst))
    return {
        "person": person,
        "as_of": day,
        "until": until,
        "roles_before": held,
        "roles_after": sorted((set(held) | set(add)) - set(remove)),
        **period_view(period, rules),
        "unmitigated_risk": period.risk,
        "verdict": refusal[0]
        if refusal
        else ("second_level" if period.risk != "none" else "clear"),
        "message": refusal[1] if refusal else "",
    }


def get_mitigation_report(
    actor: Actor, status: str = "all", day: date | None = None
) -> list[dict[str, Any]]:
    """Mitigations with their state on ``day`` (active, expiring within 30 days, expired)."""
    access_risks(actor, "mitigations")
    day = day or timezone.localdate()
    rules = get_access_rules()
    names = {k: r.name for k, r in rules.risks.items()} if rules else {}
    return [
        m.as_record()
        | {
            "risk_name": names.get(m.risk, ""),
            "state": _state(m.valid_from, m.valid_until, day),
            "case": m.case_id,
        }
        for m in get_mitigations(status, day)
    ]


def _state(start: date, until: date, day: date) -> str:
    if until < day:
        return "expired"
    if start > day:
        return "future"
    return "expiring" if (until - day).days < EXPIRING_DAYS else "active"
