"""Credits for one borrower group submitted at the same moment: each sees the ones before.

#13: on PostgreSQL two 400k credits for one group, submitted in parallel, were both
assessed at "exposure 400,000, not risk-relevant" and approved by the market vote alone,
leaving the group at 800k, above the 750k threshold. The submit now locks the group row
before it sums, so the submits of one group are assessed one after the other.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases.models import CaseEvent
from backoffice.cases.services import do_start_case
from backoffice.credit.demo import credit_payload
from backoffice.credit.models import Borrower, BorrowerGroup, CreditDecision
from tests.cases.conftest import submit_together

CREDITS = 8
ROUNDS = 20
AMOUNT = Decimal("100000.00")
THRESHOLD = Decimal("750000.00")  # the demo policy's risk-relevance threshold (CR-1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_credits_of_one_group_submitted_in_parallel_never_cross_the_threshold_unseen(
    borrowers: int,
) -> None:
    """8 credits of 100k for one group, 20 rounds: every submit sees all committed before it."""
    lukas = get_user_model().objects.get(username="lukas.becker")
    for round_no in range(ROUNDS):
        group = BorrowerGroup.objects.create(key=f"race-{round_no}", name=f"Race {round_no}")
        borrower = Borrower.objects.create(
            number=f"B{900000 + round_no:06d}", name=f"Race borrower {round_no}", group=group
        )
        cases = [
            do_start_case(
                Actor(lukas), "credit-decision", credit_payload(borrower.number, f"{AMOUNT}")
            ).raise_if_denied()
            for _ in range(CREDITS)
        ]
        outcomes = submit_together([c.pk for c in cases], lukas)
        assert outcomes == ["submitted"] * CREDITS, outcomes
        # in the order they were submitted (committed), each saw exactly those before it
        submitted = (
            CaseEvent.objects.filter(case__in=cases, kind="submitted")
            .order_by("audit_seq")
            .values_list("case_id", "data")
        )
        seen = [Decimal(data["existing_exposure"]["amount"]) for _, data in submitted]
        assert seen == [AMOUNT * i for i in range(CREDITS)], (round_no, seen)
        decisions = CreditDecision.objects.filter(group=group).order_by("existing_exposure")
        relevant = [d.risk_relevant for d in decisions]
        # 100k … 700k stay below 750k; the 8th (800k) is risk-relevant and needs both votes
        assert relevant == [False] * 7 + [True], (round_no, relevant)
        assert all(d.exposure == d.existing_exposure + AMOUNT for d in decisions)
        assert max(d.exposure for d in decisions) > THRESHOLD
