"""The demo bank's Chinese walls, made through the real services by the demo people: two
deal projects (one confidential, on the watch list; one announced, on the restricted list),
an approved wall crossing, a published research note, and refusals for the reports."""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases.queries import access_case_by_id
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.errors import DomainError
from backoffice.core.four_eyes import Command, CommandKind
from backoffice.core.walls import Kind
from backoffice.walls.models import DealProject
from backoffice.walls.pad import current_quarter, do_attest, do_place_order, do_request_clearance
from backoffice.walls.research import do_send_fact_check
from backoffice.walls.services import do_announce_project, do_create_document

__all__ = ["seed_demo_walls"]


def seed_demo_walls() -> str:
    """Create the walls demo once; returns what it did (nothing if a project exists)."""
    if DealProject.objects.exists():
        return "walls demo data exists already"
    users = {u.username: Actor(u) for u in get_user_model().objects.select_related("profile")}

    def start(maker: str, process: str, payload: dict[str, Any]) -> int:
        case = do_start_case(users[maker], process, payload, submit=True).raise_if_denied()
        return int(case.pk)

    def release(case_id: int, who: str, comment: str = "") -> None:
        command = Command(CommandKind.RELEASE, comment)
        do_command_by_id(users[who], case_id, command).raise_if_denied()

    falcon = start(
        "jan.schmitt",
        "deal-mandate",
        {
            "project": "Project Falcon",
            "issuer": "nordbank",
            "mandate": "underwriting",
            "description": "Capital increase of Nordbank AG; Musterbank as joint bookrunner.",
        },
    )
    release(falcon, "clara.vogel", "No conflicting mandate; Nordbank goes on the watch list.")
    piston = start(
        "laura.lange",
        "deal-mandate",
        {
            "project": "Project Piston",
            "issuer": "autowerk",
            "mandate": "advisory",
            "description": "Advising Autowerk Süd AG on the takeover of a supplier.",
        },
    )
    release(piston, "paula.schwarz")
    do_announce_project(
        "project-piston", reason="The takeover offer was published.", actor=users["clara.vogel"]
    )
    do_create_document(
        users["jan.schmitt"],
        issuer="nordbank",
        area="private-side",
        kind=Kind.CONFIDENTIAL,
        title="Falcon: due diligence findings",
        body="Capital ratio below plan in Q3; the raise covers it.",
    )
    crossing = start(
        "jan.schmitt",
        "wall-crossing",
        {
            "person": "tim.hartmann",
            "project": "project-falcon",
            "days": 14,
            "reason": "Sector expertise for the valuation of Nordbank.",
        },
    )
    release(crossing, "clara.vogel", "Need to know for the valuation; two weeks.")
    note = start(
        "lisa.neumann",
        "research-publication",
        {
            "issuer": "motorenbau",
            "headline": "Motorenbau Nord: order book at a record",
            "rating": "buy",
            "summary": "Orders up 14 % on the year; we raise the target.",
        },
    )
    release(note, "tim.hartmann")
    # Refusals for the compliance reports: a trader tries to open the Falcon mandate
    # (wall.not_inside), research and a trade in the restricted issuer (wall.restricted).
    with contextlib.suppress(DomainError):
        access_case_by_id(users["niklas.wolf"], falcon)
    do_start_case(
        users["lisa.neumann"],
        "research-publication",
        {
            "issuer": "autowerk",
            "headline": "Autowerk: a bold deal",
            "rating": "hold",
            "summary": "…",
        },
        submit=True,
    )
    do_start_case(
        users["niklas.wolf"],
        "personal-trade",
        {"issuer": "autowerk", "side": "buy", "quantity": 200},
        submit=True,
    )
    _seed_research_and_dealing(users, start)
    return (
        "seeded the Chinese walls demo: 2 deal projects, 1 wall crossing, 1 research note, "
        "a fact check, personal orders and an attestation"
    )


def _seed_research_and_dealing(users: dict[str, Actor], start: Any) -> None:
    """#17: a draft sent for a fact check, personal orders with each outcome (executed, a
    watch-list alert, blocked by the restricted list, the holding period and an analyst's own
    recommendation), a clearance waiting for a second compliance officer, an attestation."""
    draft = start(
        "lisa.neumann",
        "research-publication",
        {
            "issuer": "hansebank",
            "headline": "Hanse Kreditbank: deposits keep growing",
            "rating": "buy",
            "price_target": "EUR 18.40",
            "valuation": "Dividend discount model, cost of equity 10 %.",
            "summary": "Deposits up 9 % on the year; the cost base is flat.",
        },
    )
    do_send_fact_check(users["lisa.neumann"], draft)
    felix, niklas, lisa = users["felix.hoffmann"], users["niklas.wolf"], users["lisa.neumann"]
    do_place_order(felix, issuer="hansebank", side="buy", quantity=100)
    do_place_order(felix, issuer="hansebank", side="sell", quantity=100)  # holding period
    do_place_order(niklas, issuer="nordbank", side="buy", quantity=50)  # watch list: alert
    blocked = do_place_order(niklas, issuer="autowerk", side="buy", quantity=200)  # restricted
    do_place_order(lisa, issuer="motorenbau", side="sell", quantity=30)  # against her buy
    do_place_order(users["anna.schmidt"], issuer="fahrzeugwerke", side="buy", quantity=10)
    do_request_clearance(
        blocked.pk, reason="Savings plan bought before the listing.", actor=users["clara.vogel"]
    )
    year, quarter = current_quarter()
    do_attest(felix, year, quarter)
