"""Writes to booked credits after the decision: care stage, case lead, provisions, reviews.

Each ``do_*`` runs in one transaction with its audit event; a refusal changes nothing and
is itself audited (``credit.denied``) before the ``DomainError`` reaches the caller. The
rules are ``core.credit``'s (PROC-2, PROC-3, PROC-4, PROC-5); the credit decision itself
goes through the cases services (``cases.services.do_command``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from backoffice.access.queries import get_actor_facts
from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.core import credit as core
from backoffice.core.credit import CareStage
from backoffice.core.errors import Denied, DomainError
from backoffice.core.money import Money
from backoffice.core.org import Line
from backoffice.credit.engine import live_credit_policy
from backoffice.credit.models import Credit, Provision
from backoffice.credit.queries import access_credit_by_id

__all__ = [
    "do_note_risk_report_export",
    "do_report_credit_status",
    "do_assign_case_lead",
    "do_propose_provision",
    "do_approve_provision",
    "do_review_credit",
]

T = TypeVar("T")
ORDER = [CareStage.NORMAL, CareStage.INTENSIVE_CARE, CareStage.WORKOUT]


def _refused(action: str, actor: str, object_id: Any, denied: Denied) -> DomainError:
    """Record the refusal in the audit trail (it commits) and return the error to raise."""
    record(
        "credit.denied",
        actor=actor,
        object_type="credit",
        object_id=object_id,
        after={"command": action, "code": denied.code, "message": denied.message},
    )
    return DomainError.from_denied(denied)


def _guarded(action: str, actor: Actor, object_id: Any, work: Callable[[], T | Denied]) -> T:
    """Run ``work`` in a transaction; a ``Denied`` it returns is audited, then raised."""
    with transaction.atomic():
        result = work()
        error = (
            _refused(action, actor.person, object_id, result)
            if isinstance(result, Denied)
            else None
        )
    if error is not None:
        raise error
    assert not isinstance(result, Denied)
    return result


def _permitted(actor: Actor, permission: str, what: str) -> Denied | None:
    if permission not in actor.facts.permissions:
        return Denied("credit.not_permitted", f"You may not {what} (needs {permission}).")
    return None


def _policy() -> core.CreditPolicy:
    policy = live_credit_policy()
    if policy is None:
        raise DomainError("credit.not_found", "The live policy has no credit section.")
    return policy


def do_report_credit_status(
    credit_id: int, *, days_past_due: int, forborne: bool, actor: Actor
) -> Credit:
    """PROC-2: days past due and forbearance move a credit into intensive care or workout.

    The criteria are the policy's (set outside the market, PROC-1). A credit only moves
    towards workout here; the way back to normal care is a decision, not a data feed.
    """

    def work() -> Credit | Denied:
        credit = access_credit_by_id(actor, credit_id)
        if denied := _permitted(actor, "credit.monitor", "report on credits"):
            return denied
        credit = Credit.objects.select_for_update().get(pk=credit.pk)
        before: dict[str, Any] = {
            "days_past_due": credit.days_past_due,
            "forborne": credit.forborne,
            "stage": credit.stage,
        }
        called_for = core.care_stage(_policy().problem_loans, days_past_due, forborne)
        stage = max(CareStage(credit.stage), called_for, key=ORDER.index)
        credit.days_past_due, credit.forborne, credit.stage = days_past_due, forborne, stage
        credit.save(update_fields=["days_past_due", "forborne", "stage", "last_updated"])
        after = {"days_past_due": days_past_due, "forborne": forborne, "stage": stage.value}
        record(
            "credit.status.reported",
            actor=actor.person,
            object_type="credit",
            object_id=credit.pk,
            before=before,
            after=after,
            reason="PROC-2" if stage != before["stage"] else "",
        )
        return credit

    return _guarded("report_status", actor, credit_id, work)


def do_assign_case_lead(credit_id: int, lead: str, *, actor: Actor) -> Credit:
    """PROC-2: the lead of intensive care or workout is outside the market (BTO 1.2.5)."""

    def work() -> Credit | Denied:
        credit = access_credit_by_id(actor, credit_id)
        if denied := _permitted(actor, "credit.monitor", "assign case leads"):
            return denied
        if credit.stage == CareStage.NORMAL:
            return Denied(
                "case.wrong_state", "Only a credit in intensive care or workout has a case lead."
            )
        person = get_user_model().objects.filter(username=lead, is_active=True).first()
        if person is None:
            return Denied("credit.not_permitted", f"There is no active person {lead!r}.")
        if denied := core.check_case_lead(get_actor_facts(person)):
            return denied
        credit = Credit.objects.select_for_update().get(pk=credit.pk)
        before = {"case_lead": credit.case_lead.username if credit.case_lead else None}
        credit.case_lead = person
        credit.save(update_fields=["case_lead", "last_updated"])
        record(
            "credit.case_lead.assigned",
            actor=actor.person,
            object_type="credit",
            object_id=credit.pk,
            before=before,
            after={"case_lead": lead},
        )
        return credit

    return _guarded("assign_case_lead", actor, credit_id, work)


def do_propose_provision(
    credit_id: int, amount: Decimal, reason: str, *, actor: Actor
) -> Provision:
    """PROC-3: a significant provision is proposed outside the market (BTO 1.1 Tz. 7)."""

    def work() -> Provision | Denied:
        credit = access_credit_by_id(actor, credit_id)
        if denied := _permitted(actor, "credit.provision", "propose provisions"):
            return denied
        if not reason.strip():
            return Denied("credit.rationale_required", "Say why the provision is needed.")
        money = Money(amount, credit.currency)
        if denied := core.check_provision(_policy(), money, actor.facts):
            return denied
        provision = Provision.objects.create(
            credit=credit,
            amount=amount,
            currency=credit.currency,
            reason=reason.strip(),
            proposed_by=actor.person,
        )
        record(
            "credit.provision.proposed",
            actor=actor.person,
            object_type="provision",
            object_id=provision.pk,
            after={"credit": credit.pk, "amount": f"{amount:.2f} {credit.currency}"},
            reason=provision.reason,
        )
        return provision

    return _guarded("propose_provision", actor, credit_id, work)


def do_approve_provision(provision_id: int, *, actor: Actor) -> Provision:
    """PROC-3: approved by a second person, outside the market when significant."""

    def work() -> Provision | Denied:
        provision = Provision.objects.select_for_update().filter(pk=provision_id).first()
        if provision is None:
            return Denied("credit.not_found", f"There is no provision {provision_id}.")
        access_credit_by_id(actor, provision.credit_id)
        if denied := _permitted(actor, "credit.provision", "approve provisions"):
            return denied
        if provision.approved_by:
            return Denied("case.wrong_state", "The provision is approved already.")
        if provision.proposed_by == actor.person:
            return Denied(
                "sod.self_approval", "You proposed this provision; someone else approves it."
            )
        money = Money(provision.amount, provision.currency)
        if denied := core.check_provision(_policy(), money, actor.facts):
            return denied
        provision.approved_by = actor.person
        provision.save(update_fields=["approved_by", "last_updated"])
        record(
            "credit.provision.approved",
            actor=actor.person,
            object_type="provision",
            object_id=provision.pk,
            before={"approved_by": ""},
            after={"approved_by": actor.person, "proposed_by": provision.proposed_by},
        )
        return provision

    return _guarded("approve_provision", actor, provision_id, work)


def do_review_credit(credit_id: int, rating: str, comment: str, *, actor: Actor) -> Credit:
    """PROC-5 with PROC-4: the annual review by the back office sets the binding rating."""

    def work() -> Credit | Denied:
        credit = access_credit_by_id(actor, credit_id)
        if denied := _permitted(actor, "credit.rating.set", "review credits and set ratings"):
            return denied
        facts = actor.facts
        if Line.MARKET in facts.lines:
            return Denied(
                "credit.not_permitted",
                "The binding rating is set outside the market (PROC-4, MaRisk BTO 1.4).",
            )
        policy = _policy()
        if rating not in policy.ratings:
            return Denied(
                "credit.rating_required", f"The rating is one of {', '.join(policy.ratings)}."
            )
        if not comment.strip():
            return Denied("credit.rationale_required", "Write down what the review found.")
        credit = Credit.objects.select_for_update().get(pk=credit.pk)
        before = {"rating": credit.rating, "last_review": credit.last_review}
        today = timezone.localdate()
        credit.rating, credit.last_review = rating, today
        credit.review_due = core.add_months(today, policy.review_months)
        credit.save(update_fields=["rating", "last_review", "review_due", "last_updated"])
        record(
            "credit.reviewed",
            actor=actor.person,
            object_type="credit",
            object_id=credit.pk,
            before=before,
            after={"rating": rating, "last_review": today, "review_due": credit.review_due},
            reason=comment.strip(),
        )
        return credit

    return _guarded("review", actor, credit_id, work)


def do_note_risk_report_export(actor: Actor, start: date, end: date, file_format: str) -> None:
    """#19: who took the CR-6 risk report out of the system as a file, for which period, and
    when: on the audit trail, as the insider list's exports are (MaRisk BTO 1.1 Tz. 2)."""
    with transaction.atomic():
        record(
            "credit.risk_report.exported",
            actor=actor.person,
            object_type="report",
            object_id="risk-report",
            after={"format": file_format, "start": start.isoformat(), "end": end.isoformat()},
        )
