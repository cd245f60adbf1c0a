"""What released access cases do: grant a role (``access.grant``), mitigate (``access.mitigate``).

Both check again in the release's own transaction, so what was approved is what happens:
a grant is refused there if the person's access changed meanwhile (ACC-1..3, docs/access.md).
A grant is judged on every day it holds, against every assignment and mitigation of the
person on that day (#13, ``core.access_time``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.access.models import Mitigation, Role, RoleAssignment
from backoffice.access.queries import (
    get_access_rules,
    get_delegation_assessment,
    get_grant_assessment_over,
)
from backoffice.audit.services import record
from backoffice.base.context import cached, forget
from backoffice.base.effects import EffectProblem
from backoffice.core.access import AccessRules, Assessment
from backoffice.core.access_time import PeriodAssessment
from backoffice.core.accessrisk import RiskChange

__all__ = [
    "RoleGrant",
    "MitigationGrant",
    "DelegationGrant",
    "RoleRevoke",
    "assessment_view",
    "period_view",
    "risk_view",
]


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _person(username: Any, *, lock: bool = False) -> Any:
    """The active person named; locked, it is kept for the rest of the request (the release
    that checked a grant then carries it out on the same row)."""
    people = get_user_model().objects.filter(username=username, is_active=True)
    if not lock:
        return people.first()
    user = people.select_for_update().first()
    forget(f"access:person:{username}")
    return cached(f"access:person:{username}", lambda: user)


def _role(key: Any) -> Role | None:
    """A role of the live policy, read once per request."""
    return cached(
        f"access:role:{key}", lambda: Role.objects.filter(key=key, retired_at__isnull=True).first()
    )


class RoleGrant:
    """IAM-1: requester (maker), approver and beneficiary are three different people; the
    grant is judged by the access rules of the live policy (SSD, risks, mitigations)."""

    def _assess(self, payload: Mapping[str, Any], *, lock: bool = False) -> PeriodAssessment | None:
        """The assessment over the grant's validity, from its start (today for a backdated
        one) until ``valid_to``: every day on which the person's other assignments or
        mitigations change is judged, and the worst day counts (#13).

        ``lock`` holds the beneficiary's row until the transaction ends: two grants to one
        person are judged one after the other, never both against the same old holdings.
        """
        user = _person(payload.get("beneficiary"), lock=lock)
        rules = get_access_rules()
        role = payload.get("role")
        if user is None or rules is None or not isinstance(role, str) or not rules.knows(role):
            return None
        today = timezone.localdate()
        start = max(_day(payload.get("valid_from")) or today, today)
        return get_grant_assessment_over(user, [role], start, _day(payload.get("valid_to")))

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return payload.get("beneficiary") == person

    def derive(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        assessment = self._assess(payload)
        return {"risk": assessment.risk if assessment else "none"}

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        if _role(payload.get("role")) is None:
            return EffectProblem(
                "access.unknown_role", f"There is no role {payload.get('role')!r}."
            )
        assessment = self._assess(payload, lock=True)
        if assessment is None:
            return None
        if (refusal := assessment.refusal) is not None:
            return EffectProblem(*refusal)
        assessed = payload.get("risk")
        if assessed is None and assessment.risk != "none":
            return EffectProblem(
                "access.mitigation_required",
                f"The grant creates an unmitigated {assessment.risk} access risk "
                f"({assessment.risk_day.when()}) and this process has no second-level "
                "approval: mitigate the risk first.",
            )
        if assessed is not None and assessed != assessment.risk:
            return EffectProblem(
                "access.assessment_changed",
                f"The grant was assessed as access risk {assessed!r}; it is {assessment.risk!r} "
                "now. Amend the case so it is assessed, and approved, again.",
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        assessment = self._assess(payload)
        rules = get_access_rules()
        view: dict[str, Any] = {
            "kind": "access",
            "beneficiary": payload.get("beneficiary"),
            "role": payload.get("role"),
            "valid_from": payload.get("valid_from"),
            "valid_to": payload.get("valid_to"),
        }
        if assessment is None or rules is None:
            return view
        return view | period_view(assessment, rules)

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        user = cached(
            f"access:person:{payload['beneficiary']}",
            lambda: get_user_model().objects.get(username=payload["beneficiary"]),
        )
        role = _role(payload["role"])
        assert role is not None  # checked at release, in this transaction
        valid_from = date.fromisoformat(payload["valid_from"])
        valid_to = date.fromisoformat(payload["valid_to"]) if payload.get("valid_to") else None
        grant = RoleAssignment.objects.create(
            user=user,
            role=role,
            valid_from=valid_from,
            valid_to=valid_to,
            granted_by=case.maker.username,
            approved_by=actor,
            source=f"case:{case.pk}",
        )
        after = {
            "person": user.username,
            "role": role.key,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "granted_by": grant.granted_by,
            "approved_by": actor,
            "risk": payload.get("risk", "none"),
        }
        record(
            "access.assignment.created",
            actor=actor,
            object_type="assignment",
            object_id=f"{user.username}/{role.key}/{valid_from.isoformat()}",
            after=after,
            reason=f"released role-grant case {case.pk}",
        )
        return after


def period_view(period: PeriodAssessment, rules: AccessRules) -> dict[str, Any]:
    """The worst day of a period as the case page and the what-if show it: its refusal,
    risks and SSD breaches, and from which day and why when that is not the first day."""
    worst = period.worst
    refusal = period.refusal
    return {
        "risk": period.risk,
        "refusal": {"code": refusal[0], "message": refusal[1]} if refusal else None,
        "from_day": worst.day if worst.day != period.start else None,
        "because": [
            {"kind": c.kind, "value": c.value, "starts": c.starts, "whose": c.whose}
            for c in worst.because
        ],
    } | assessment_view(worst.assessment, rules)


def assessment_view(assessment: Assessment, rules: AccessRules) -> dict[str, Any]:
    """Risks gained and lost and SSD breaches, as the case page and the what-if show them."""
    return {
        "gained": [risk_view(r, rules, r.risk in assessment.mitigated) for r in assessment.gained],
        "lost": [risk_view(r, rules, False) for r in assessment.lost],
        "ssd": [
            {
                "constraint": b.constraint,
                "name": b.name,
                "n": b.n,
                "roles": [list(r) for r in b.roles],
            }
            for b in assessment.ssd
        ],
    }


def risk_view(change: RiskChange, rules: AccessRules, mitigated: bool) -> dict[str, Any]:
    """A risk as people read it: name, level, owner, and the roles and permissions behind it."""
    spec = rules.risks[change.risk]
    return {
        "risk": change.risk,
        "name": spec.name,
        "level": change.level,
        "owner": spec.owner,
        "description": spec.description,
        "mitigated": mitigated,
        "causes": [
            {"function": c.function, "role": c.role, "permission": c.permission, "via": c.via}
            for c in change.causes
        ],
    }


class MitigationGrant:
    """IAM-3: a mitigation names a control, its owner and monitor, and an end; only a
    released four-eyes case creates or extends one."""

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return payload.get("person") == person

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        rules = get_access_rules()
        risk = payload.get("risk")
        if rules is None or risk not in rules.risks:
            return EffectProblem("access.unknown_risk", f"There is no access risk {risk!r}.")
        until = _day(payload.get("valid_until"))
        if until is None or until < timezone.localdate():
            return EffectProblem(
                "access.invalid",
                "A mitigation must hold until today or later.",
                [{"field": "valid_until", "message": "is in the past"}],
            )
        person = payload.get("person")
        for name in ("owner", "monitor"):
            if payload.get(name) == person:
                return EffectProblem(
                    "access.invalid",
                    f"The person whose risk is mitigated cannot be the control's {name}.",
                    [{"field": name, "message": "is the person the mitigation covers"}],
                )
        return None

    def _existing(self, payload: Mapping[str, Any]) -> Mitigation | None:
        return Mitigation.objects.filter(
            person__username=payload.get("person"),
            risk=payload.get("risk"),
            control=payload.get("control"),
        ).first()

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        existing = self._existing(payload)
        return {
            "kind": "change",
            "object": f"{payload.get('person')} · {payload.get('risk')} · {payload.get('control')}",
            "field": "valid until",
            "before": existing.valid_until.isoformat() if existing else None,
            "after": payload.get("valid_until"),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        payload = case.payload
        people = get_user_model().objects.in_bulk(
            [payload["person"], payload["owner"], payload["monitor"]], field_name="username"
        )
        existing = self._existing(payload)
        before = existing.as_record() if existing else None
        mitigation = existing or Mitigation(
            person=people[payload["person"]],
            risk=payload["risk"],
            control=payload["control"],
            valid_from=timezone.localdate(),
        )
        mitigation.description = payload["description"]
        mitigation.owner = people[payload["owner"]]
        mitigation.monitor = people[payload["monitor"]]
        if existing and existing.valid_until < timezone.localdate():
            # renewed after it lapsed: the gap stays unmitigated on record
            mitigation.valid_from = timezone.localdate()
        mitigation.valid_until = date.fromisoformat(payload["valid_until"])
        mitigation.case = case
        mitigation.save()
        after = mitigation.as_record()
        record(
            "access.mitigation.extended" if existing else "access.mitigation.created",
            actor=actor,
            object_type="mitigation",
            object_id=f"{payload['person']}/{payload['risk']}/{payload['control']}",
            before=before,
            after=after,
            reason=f"released mitigation case {case.pk}",
        )
        return after


class DelegationGrant:
    """#13: a delegation whose substitute would take on a high access risk by acting for
    the principal, approved by compliance where the policy allows it
    (``access.delegation.high: compliance``). The principal starts the case (the process
    names them in ``starter_is``); its release creates the delegation, and the high risks
    approved with it are allowed when the substitute acts. A critical risk is refused."""

    def _people(self, payload: Mapping[str, Any]) -> tuple[Any, Any]:
        return _person(payload.get("principal")), _person(payload.get("substitute"))

    def _assess(self, payload: Mapping[str, Any]) -> PeriodAssessment | None:
        principal, substitute = self._people(payload)
        start, end = _day(payload.get("valid_from")), _day(payload.get("valid_to"))
        if principal is None or substitute is None or start is None or end is None:
            return None
        return get_delegation_assessment(
            principal, substitute, max(start, timezone.localdate()), end
        )

    def derive(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        assessment = self._assess(payload)
        return {"risk": assessment.risk if assessment else "none"}

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        from backoffice.cases.services import delegation_problem

        principal, substitute = self._people(payload)
        start, end = _day(payload.get("valid_from")), _day(payload.get("valid_to"))
        if principal is None or substitute is None or start is None or end is None:
            return EffectProblem("delegation.invalid", "Name an active substitute and a period.")
        problem = delegation_problem(principal, substitute, start, end, approved=True)
        if problem is not None:
            return EffectProblem(*problem)
        assessment = self._assess(payload)
        risk = assessment.risk if assessment else "none"
        if payload.get("risk") not in (None, risk):
            return EffectProblem(
                "access.assessment_changed",
                f"The delegation was assessed as access risk {payload.get('risk')!r}; it is "
                f"{risk!r} now. Amend the case so it is assessed, and approved, again.",
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        view: dict[str, Any] = {
            "kind": "access",
            "beneficiary": payload.get("substitute"),
            "role": f"substitute for {payload.get('principal')}",
            "valid_from": payload.get("valid_from"),
            "valid_to": payload.get("valid_to"),
        }
        assessment, rules = self._assess(payload), get_access_rules()
        if assessment is None or rules is None:
            return view
        return view | period_view(assessment, rules)

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        from backoffice.cases.services import create_delegation

        payload = case.payload
        substitute = get_user_model().objects.get(username=payload["substitute"])
        assessment = self._assess(payload)
        approved = [
            risk
            for risk, level in (assessment.open_risks() if assessment else {}).items()
            if level == "high"
        ]
        row = create_delegation(
            case.maker,  # the process's starter_is: the principal started it
            substitute,
            date.fromisoformat(payload["valid_from"]),
            date.fromisoformat(payload["valid_to"]),
            reason=payload.get("reason") or "",
            created_by=case.maker.username,
            case=case,
            approved_risks=approved,
        )
        return {
            "delegation": row.pk,
            "principal": case.maker.username,
            "substitute": substitute.username,
            "approved_by": actor,
            "approved_risks": row.approved_risks,
        }


# -- #15 recertification: a revoked assignment ends by a released ``role-revoke`` case ----


def _assignment_to_end(payload: Mapping[str, Any]) -> RoleAssignment | None:
    """The assignment the payload names (holder, role, start), if it still holds today or
    starts later."""
    start = _day(payload.get("valid_from"))
    if start is None:
        return None
    today = timezone.localdate()
    return (
        RoleAssignment.objects.filter(
            user__username=payload.get("beneficiary"),
            role__key=payload.get("role"),
            valid_from=start,
        )
        .exclude(valid_to__lte=today)
        .select_related("user", "role")
        .first()
    )


class RoleRevoke:
    """RECERT-1: the end of an assignment a reviewer revoked, released by a second person.
    The assignment no longer holds from the day of the release (``valid_to`` is exclusive)."""

    def affects(self, payload: Mapping[str, Any], person: str) -> bool:
        return payload.get("beneficiary") == person

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        if _assignment_to_end(payload) is None:
            return EffectProblem(
                "access.unknown_assignment",
                f"{payload.get('beneficiary')!r} holds no role {payload.get('role')!r} "
                f"from {payload.get('valid_from')} any more.",
                [{"field": "valid_from", "message": "no such assignment"}],
            )
        return None

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "kind": "change",
            "object": f"{payload.get('beneficiary')} · {payload.get('role')}",
            "field": "valid until (exclusive)",
            "before": None,
            "after": timezone.localdate().isoformat(),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        assignment = _assignment_to_end(case.payload)
        assert assignment is not None  # checked at release, in this transaction
        before = {"valid_to": assignment.valid_to}
        assignment.valid_to = max(timezone.localdate(), assignment.valid_from)
        assignment.save(update_fields=["valid_to", "last_updated"])
        after = {
            "person": assignment.user.username,
            "role": assignment.role.key,
            "valid_from": assignment.valid_from,
            "valid_to": assignment.valid_to,
            "revoked_by": case.maker.username,
            "approved_by": actor,
        }
        record(
            "access.assignment.ended",
            actor=actor,
            object_type="assignment",
            object_id=f"{assignment.user.username}/{assignment.role.key}/"
            f"{assignment.valid_from.isoformat()}",
            before=before,
            after=after,
            reason=f"released role-revoke case {case.pk}: {case.payload.get('reason', '')}",
        )
        return after
