"""Demo cases in different states, made through the real services by the demo people,
so the inbox, the timeline and the registers show something on first start."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from backoffice.base.actor import Actor
from backoffice.cases.models import Case
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.four_eyes import Command, CommandKind
from backoffice.masterdata.models import Customer

__all__ = ["seed_demo_cases"]

CUSTOMERS = [
    (
        "C000001",
        "Bäckerei Korn GmbH",
        "DE02120300000000202051",
        "BYLADEM1001",
        "Hauptstr. 1, 60311 Frankfurt",
    ),
    (
        "C000002",
        "Schmidt Logistik AG",
        "DE89370400440532013000",
        "COBADEFFXXX",
        "Hafenweg 7, 20457 Hamburg",
    ),
    (
        "C000003",
        "Weingut Lange KG",
        "DE75512108001245126199",
        "SOGEDEFFXXX",
        "Am Berg 3, 55116 Mainz",
    ),
]


def _payment(
    creditor: str, amount: str, purpose: str, iban: str = "DE89370400440532013000"
) -> dict[str, Any]:
    return {
        "creditor": creditor,
        "iban": iban,
        "amount": {"amount": amount, "currency": "EUR"},
        "value_date": "2026-12-15",
        "purpose": purpose,
    }


def seed_demo_cases() -> int:
    """Create the demo cases once; returns how many were created (0 if any case exists)."""
    if Case.objects.exists():
        return 0
    users = {u.username: Actor(u) for u in get_user_model().objects.select_related("profile")}
    for number, name, iban, bic, address in CUSTOMERS:
        Customer.objects.get_or_create(
            number=number, defaults={"name": name, "iban": iban, "bic": bic, "address": address}
        )

    def start(maker: str, process: str, payload: dict[str, Any], submit: bool = True) -> int:
        case = do_start_case(users[maker], process, payload, submit=submit).raise_if_denied()
        return int(case.pk)

    def act(case_id: int, who: str, kind: CommandKind, comment: str = "") -> None:
        do_command_by_id(users[who], case_id, Command(kind, comment)).raise_if_denied()

    start(
        "anna.schmidt",
        "payment-release",
        _payment("Maschinenbau Roth GmbH", "2500.00", "Invoice 2026-1187"),
    )
    second = start(
        "lukas.becker",
        "payment-release",
        _payment("Schmidt Logistik AG", "48000.00", "Freight Q4 2026"),
    )
    act(second, "maria.keller", CommandKind.RELEASE, "invoice and delivery note match")
    start(
        "julia.wagner",
        "payment-release",
        _payment(
            "Stadtwerke Mainz AG",
            "1250000.00",
            "Energy contract 2027, first instalment",
            iban="DE75512108001245126199",
        ),
    )
    released = start(
        "felix.hoffmann", "payment-release", _payment("Büro Kern", "900.00", "Office supplies")
    )
    act(released, "lena.schulz", CommandKind.RELEASE)
    returned = start(
        "anna.schmidt", "payment-release", _payment("Weingut Lange KG", "15000.00", "Event 2026")
    )
    act(
        returned,
        "maria.keller",
        CommandKind.RETURN,
        "The invoice says 12,500 EUR; please check the amount.",
    )
    rejected = start(
        "paul.meyer", "payment-release", _payment("Büro Kern", "900.00", "Office supplies")
    )
    act(rejected, "lena.schulz", CommandKind.REJECT, "Duplicate of an already released payment.")
    start(
        "lukas.becker",
        "payment-release",
        _payment("Hotel am Main", "640.00", "Client dinner"),
        submit=False,
    )
    start(
        "paul.meyer",
        "master-data-change",
        {
            "customer": "C000001",
            "field": "iban",
            "new_value": "DE44500105175407324931",
            "reason": "Letter from the customer dated 2026-11-20: new house bank.",
        },
    )
    start(
        "anna.schmidt",
        "role-grant",
        {
            "beneficiary": "felix.hoffmann",
            "role": "master-data-clerk",
            "valid_from": "2026-12-01",
            "justification": "Felix covers customer data for Lukas during December.",
        },
    )
    # #6: Eva Hahn enters and releases payments (risk payment-entry-release): a mitigation,
    # and Lena Schulz's one runs out soon, so the mitigation report has something to say.
    today = timezone.localdate()
    for person, control, days, description in (
        (
            "eva.hahn",
            "PAY-REVIEW-01",
            180,
            "Head of accounting: every payment she releases is reviewed next day by compliance.",
        ),
        (
            "lena.schulz",
            "PAY-REVIEW-02",
            20,
            "Weekly sample review of payments entered and released by the same person.",
        ),
    ):
        mitigation = start(
            "anna.schmidt",
            "mitigation",
            {
                "person": person,
                "risk": "payment-entry-release",
                "control": control,
                "description": description,
                "owner": "clara.vogel",
                "monitor": "martin.jung",
                "valid_until": (today + timedelta(days=days)).isoformat(),
            },
        )
        act(
            mitigation,
            "clara.vogel",
            CommandKind.RELEASE,
            "Control is in place; see the review log.",
        )
    # A grant that creates a high access risk: approved by the business owner, it waits for
    # compliance's second-level approval.
    risky = start(
        "maria.keller",
        "role-grant",
        {
            "beneficiary": "paul.meyer",
            "role": "payment-releaser",
            "valid_from": today.isoformat(),
            "justification": "Paul stands in for Lena during her leave.",
        },
    )
    act(risky, "anna.schmidt", CommandKind.RELEASE, "Agreed for the leave period.")
    return Case.objects.count()
