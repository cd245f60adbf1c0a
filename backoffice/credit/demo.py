"""Demo borrowers and credit cases of Musterbank AG, made through the real services.

Borrowers are master data outside the policy; ``seed_borrowers`` writes them once (tests
use it too). ``seed_demo_credit`` starts credit cases by the demo people and votes on them
as they would, so the registers, the escalations and the risk report show something.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.credit import CreditAction, CreditCommand, Decision
from backoffice.credit.models import Borrower, BorrowerGroup, CreditDecision, Relationship
from backoffice.org.models import Unit

__all__ = ["GROUPS", "BORROWERS", "seed_borrowers", "seed_demo_credit", "credit_payload"]

#: (key, name, opening exposure in EUR)
GROUPS = [
    ("korn", "Korn Backwaren group", "0"),
    ("schmidt", "Schmidt Logistik group", "600000"),
    ("lange", "Weingut Lange", "150000"),
    ("stadtwerke", "Stadtwerke Mainz group", "28000000"),
    ("bauer-private", "Stefan Bauer (private)", "0"),
]

#: (number, name, group, serving market unit, insider §15 KWG)
BORROWERS = [
    ("B000001", "Bäckerei Korn GmbH", "korn", "corporate-clients", False),
    ("B000002", "Schmidt Logistik AG", "schmidt", "corporate-clients", False),
    ("B000003", "Schmidt Immobilien GmbH", "schmidt", "corporate-clients", False),
    ("B000004", "Weingut Lange KG", "lange", "retail", False),
    ("B000005", "Stadtwerke Mainz AG", "stadtwerke", "corporate-clients", False),
    ("B000006", "Stefan Bauer (Prokurist, head of Legal)", "bauer-private", "retail", True),
    ("B000007", "Maschinenbau Roth GmbH", "korn", "corporate-clients", False),
]

#: Who looked after which borrower (COOL-1 needs it): Jonas Fischer served the Schmidt
#: group in Corporate Clients until he moved to Credit Analysis on 2026-10-01.
RELATIONSHIPS = [
    ("B000002", "jonas.fischer", date(2021, 1, 1), date(2026, 10, 1)),
    ("B000002", "lukas.becker", date(2026, 10, 1), None),
    ("B000001", "lukas.becker", date(2022, 3, 1), None),
]


@transaction.atomic
def seed_borrowers(actor: str = "demo") -> int:
    """The demo borrower register, once; returns how many borrowers were created."""
    if Borrower.objects.exists():
        return 0
    groups = {
        key: BorrowerGroup.objects.create(key=key, name=name, opening_exposure=Decimal(amount))
        for key, name, amount in GROUPS
    }
    units = {u.key: u for u in Unit.objects.all()}
    users = {u.username: u for u in get_user_model().objects.all()}
    for number, name, group, unit, insider in BORROWERS:
        Borrower.objects.create(
            number=number, name=name, group=groups[group], unit=units.get(unit), insider=insider
        )
    for number, person, start, end in RELATIONSHIPS:
        if person in users:
            Relationship.objects.create(
                borrower=Borrower.objects.get(number=number),
                user=users[person],
                valid_from=start,
                valid_to=end,
            )
    record(
        "credit.borrowers.seeded",
        actor=actor,
        object_type="borrower",
        object_id="demo",
        after={"groups": len(GROUPS), "borrowers": len(BORROWERS)},
    )
    return len(BORROWERS)


def credit_payload(
    borrower: str, amount: str, product: str = "corporate-loan", **extra: Any
) -> dict[str, Any]:
    return {
        "borrower": borrower,
        "product": product,
        "amount": {"amount": amount, "currency": "EUR"},
        "purpose": extra.pop("purpose", "Investment loan"),
        "term_months": 60,
        "collateral": "Land charge on the company's premises",
    } | extra


def seed_demo_credit() -> int:
    """Credit cases in different states; none if any credit case exists already."""
    seed_borrowers()
    if CreditDecision.objects.exists():
        return 0
    users = {u.username: Actor(u) for u in get_user_model().objects.select_related("profile")}

    def start(maker: str, payload: dict[str, Any]) -> int:
        case = do_start_case(users[maker], "credit-decision", payload, submit=True)
        return int(case.raise_if_denied().pk)

    def vote(case: int, who: str, decision: str, why: str, rating: str | None = None) -> None:
        command = CreditCommand(
            CreditAction.VOTE, comment=why, decision=Decision(decision), rating=rating
        )
        do_command_by_id(users[who], case, command).raise_if_denied()

    def decide(case: int, who: str, decision: str, why: str, justification: str = "") -> None:
        command = CreditCommand(
            CreditAction.DECIDE,
            comment=why,
            decision=Decision(decision),
            justification=justification,
        )
        do_command_by_id(users[who], case, command).raise_if_denied()

    small = start("lukas.becker", credit_payload("B000004", "40000.00", "overdraft"))
    vote(small, "anna.schmidt", "approve", "Seasonal overdraft, repaid every year since 2019.", "4")
    approved = start("lukas.becker", credit_payload("B000001", "2000000.00"))
    vote(approved, "anna.schmidt", "approve", "New production line; strong order book.", "4")
    vote(approved, "maria.keller", "approve", "Debt service cover 1.6; collateral sound.", "4")
    start("felix.hoffmann", credit_payload("B000007", "600000.00", purpose="Machinery"))
    escalated = start("lukas.becker", credit_payload("B000002", "900000.00", purpose="Fleet"))
    vote(escalated, "anna.schmidt", "approve", "Long-standing client, fleet renewal.", "5")
    vote(escalated, "maria.keller", "reject", "Group leverage too high after 2025 losses.", "7")
    rejected = start("felix.hoffmann", credit_payload("B000004", "200000.00", "mortgage"))
    vote(rejected, "julia.wagner", "reject", "The winery's cash flow does not carry a mortgage.")
    override = start("julia.wagner", credit_payload("B000004", "1500000.00", purpose="Cellar"))
    vote(override, "anna.schmidt", "approve", "New cellar doubles capacity; export contracts.", "5")
    vote(override, "maria.keller", "reject", "Single-product risk; valuation optimistic.", "7")
    decide(
        override,
        "max.weber",
        "approve",
        "Strategic client of the region; export contracts signed for five years.",
        justification="Export contracts of five years cover the debt service twice.",
    )
    committee = start("julia.wagner", credit_payload("B000005", "5000000.00", purpose="Grid"))
    vote(committee, "thomas.klein", "approve", "Municipal utility, stable regulated income.")
    return CreditDecision.objects.count()
