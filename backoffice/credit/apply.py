"""The credit app's part of loading a policy: the ``credit:`` section with its history."""

from __future__ import annotations

from backoffice.credit.models import CreditPolicyRecord
from backoffice.org.appliers import Applier, PolicyLoad

__all__ = ["CREDIT_APPLIER"]


def apply_credit(load: PolicyLoad) -> None:
    """#5: levels, thresholds, criteria: a new record only when the section changed; credit
    cases freeze the section they start under, so a change never alters a case in flight."""
    wanted = load.policy.credit.model_dump(mode="json") if load.policy.credit else None
    latest = CreditPolicyRecord.objects.select_for_update().order_by("-number").first()
    before = latest.definition if latest else None
    if before == wanted:
        return
    CreditPolicyRecord.objects.create(number=load.number, definition=wanted)
    load.audit("credit.policy.changed", "credit_policy", load.number, before, wanted)


CREDIT_APPLIER = Applier("credit", 80, apply_credit)
