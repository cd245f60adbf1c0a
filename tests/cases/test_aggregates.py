"""#13: payments to one creditor within a day add up for the approval tier (structuring).

The demo policy's ``payment-release`` says ``aggregate: {by: creditor, window: 1d}``: two
payments of 9,999 to one creditor do not slip under the 10,000 tier; the second needs two
releasers. The sum is recorded with the submission and shown on the case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases.models import Case, CaseEvent
from backoffice.cases.queries import domain_case
from backoffice.cases.services import do_start_case
from tests.cases.conftest import Person, payment, problem, submit_together

People = Callable[[str], Person]
SMALL = "9999.00"


def submit_payment(anna: Person, amount: str = SMALL, **extra: Any) -> dict[str, Any]:
    response = anna.start("payment-release", payment(amount, **extra))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def test_a_second_payment_of_9999_to_the_same_creditor_needs_two_releasers(
    person: People,
) -> None:
    anna, lena, maria = person("anna.schmidt"), person("lena.schulz"), person("maria.keller")
    first = submit_payment(anna)
    assert (first["approvals"]["needed"], first["approvals"]["aggregate"]) == (1, None)
    second = submit_payment(anna)
    approvals = second["approvals"]
    assert (approvals["tier"], approvals["needed"]) == ("10,000 and more", 2)
    aggregate = approvals["aggregate"]
    assert (aggregate["others"], aggregate["total"], aggregate["currency"]) == (
        [first["id"]],
        "19998.00",
        "EUR",
    )
    assert aggregate["note"] == (
        "with 1 other case for creditor ACME Maschinenbau GmbH within 1 day: 19,998.00 EUR"
    )
    page = anna.client.get(f"/cases/{second['id']}/")
    assert b"with 1 other case for creditor ACME Maschinenbau GmbH" in page.content
    # one releaser is not enough any more; a second, different one releases
    after_one = lena.act(second["id"], "release").json()
    assert (after_one["status"], after_one["approvals"]["given"]) == ("submitted", 1)
    problem(lena.act(second["id"], "release"), 403, "sod.already_approved")
    assert maria.act(second["id"], "release").json()["status"] == "released"
    # the sum is on record with the submission (and in the audit trail), so replay is pure
    submitted = CaseEvent.objects.get(case_id=second["id"], kind="submitted")
    assert submitted.data["aggregate"]["others"] == [{"case": first["id"], "amount": "9999.00"}]


def test_the_creditor_matches_whatever_its_spelling_and_a_third_payment_sums_all(
    person: People,
) -> None:
    anna = person("anna.schmidt")
    one = submit_payment(anna, "4000.00")
    two = submit_payment(anna, "4000.00", creditor="  acme   MASCHINENBAU gmbh")
    assert two["approvals"]["needed"] == 1  # 8,000 together: still below 10,000
    assert two["approvals"]["aggregate"]["others"] == [one["id"]]
    three = submit_payment(anna, "4000.00")
    assert three["approvals"]["needed"] == 2
    assert three["approvals"]["aggregate"]["total"] == "12000.00"


def test_a_payment_to_another_creditor_stands_alone(person: People) -> None:
    anna = person("anna.schmidt")
    submit_payment(anna)
    other = submit_payment(anna, creditor="Bäckerei Korn GmbH")
    assert (other["approvals"]["needed"], other["approvals"]["aggregate"]) == (1, None)


def test_a_payment_in_another_currency_is_not_added(person: People) -> None:
    anna = person("anna.schmidt")
    submit_payment(anna)
    dollars = payment(SMALL) | {"amount": {"amount": SMALL, "currency": "USD"}}
    other = anna.start("payment-release", dollars).json()
    assert other["approvals"]["needed"] == 1


def test_a_payment_submitted_more_than_a_day_earlier_does_not_count(person: People) -> None:
    anna = person("anna.schmidt")
    first = submit_payment(anna)
    # the first submission happened 25 hours ago
    CaseEvent.objects.filter(case_id=first["id"], kind="submitted").update(
        at=CaseEvent.objects.get(case_id=first["id"], kind="submitted").at - timedelta(hours=25)
    )
    second = submit_payment(anna)
    assert second["approvals"]["needed"] == 1


def test_rejected_withdrawn_and_draft_payments_do_not_count(person: People) -> None:
    anna, lena = person("anna.schmidt"), person("lena.schulz")
    rejected = submit_payment(anna)
    lena.act(rejected["id"], "reject", comment="duplicate invoice")
    withdrawn = submit_payment(anna)
    anna.act(withdrawn["id"], "withdraw", comment="entered twice")
    anna.start("payment-release", payment(SMALL), submit=False)  # a draft
    assert submit_payment(anna)["approvals"]["needed"] == 1


def test_released_and_returned_payments_count(person: People) -> None:
    anna, lena = person("anna.schmidt"), person("lena.schulz")
    released = submit_payment(anna, "3000.00")
    assert lena.act(released["id"], "release").json()["status"] == "released"
    returned = submit_payment(anna, "3000.00")
    lena.act(returned["id"], "return", comment="wrong purpose")
    third = submit_payment(anna, "4000.00")
    assert third["approvals"]["needed"] == 2
    assert sorted(third["approvals"]["aggregate"]["others"]) == [released["id"], returned["id"]]


def test_a_resubmission_sums_again(person: People) -> None:
    """A returned payment resubmitted is summed anew with what is there now."""
    anna, lena = person("anna.schmidt"), person("lena.schulz")
    first = submit_payment(anna)
    lena.act(first["id"], "return", comment="check the IBAN")
    submit_payment(anna, "5000.00")
    again = anna.act(first["id"], "submit").json()
    assert again["approvals"]["needed"] == 2
    assert again["approvals"]["aggregate"]["total"] == "14999.00"


# -- concurrency ---------------------------------------------------------------------------

PAYMENTS = 6
ROUNDS = 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_split_payments_submitted_in_parallel_all_but_the_first_need_two_releasers(
    demo_bank: Any,
) -> None:
    anna = get_user_model().objects.get(username="anna.schmidt")
    for round_no in range(ROUNDS):
        creditor = f"Structuring Ltd {round_no}"
        cases = [
            do_start_case(
                Actor(anna), "payment-release", payment(SMALL, creditor=creditor)
            ).raise_if_denied()
            for _ in range(PAYMENTS)
        ]
        outcomes = submit_together([c.pk for c in cases], anna)
        assert outcomes == ["submitted"] * PAYMENTS, outcomes
        events = CaseEvent.objects.filter(case__in=cases, kind="submitted").order_by("audit_seq")
        seen = [len(e.data["aggregate"]["others"]) for e in events]
        assert seen == list(range(PAYMENTS)), (round_no, seen)  # each saw all before it
        in_order = [Case.objects.get(pk=e.case_id) for e in events]
        needed = [domain_case(c).tier(c.spec.step("release")).approvals for c in in_order]
        assert needed == [1] + [2] * (PAYMENTS - 1), (round_no, needed)
