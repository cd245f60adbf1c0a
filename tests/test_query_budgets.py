"""#14: each hot request stays within its number of SQL statements, whatever the data size.

Budgets from the issue: a payment's release 15, a start-and-submit 15, a role grant's
release 25; the inbox, a case page and the audit list 12 each, the same for ten rows as for
a hundred. The tests run with real transactions (``transaction=True``), as a server does,
so that no test savepoints are counted; SQLite counts its BEGIN and COMMIT, PostgreSQL its
advisory locks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backoffice.base.actor import Actor
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.four_eyes import Command, CommandKind
from tests.access.test_grants import grant
from tests.cases.conftest import payment

pytestmark = pytest.mark.django_db(transaction=True)


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    # not counted: the login's own statements, and what a server reads once per policy
    # version (the processes, the parsed policy)
    client.get("/cases/new/")
    return client


def statements(request: Callable[[], Any], status: int = 200) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == status, response.content[:500]
    import os

    if os.environ.get("SHOWQ"):
        for q in captured.captured_queries:
            print("   ", q["sql"][:170])
    return len(captured)


def payments(maker: str, count: int, amount: str = "2500.00") -> list[int]:
    actor = Actor(get_user_model().objects.get(username=maker))
    return [
        do_start_case(actor, "payment-release", payment(amount), submit=True).raise_if_denied().pk
        for _ in range(count)
    ]


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def test_a_payment_is_started_and_submitted_within_15_statements(demo_bank: Any) -> None:
    anna = client_of("anna.schmidt")
    body = {"process": "payment-release", "payload": payment("2500.00"), "submit": True}
    assert statements(lambda: post(anna, "/api/v1/cases", body), 201) <= 15


def test_a_payment_is_released_within_17_statements(demo_bank: Any) -> None:
    """#18: two of them are the outbox's row and its dispatch task, written with the event."""
    [case] = payments("anna.schmidt", 1)
    maria = client_of("maria.keller")
    release = {"action": "release"}
    assert statements(lambda: post(maria, f"/api/v1/cases/{case}/actions", release)) <= 17


def test_a_role_grant_is_released_within_25_statements(demo_bank: Any) -> None:
    maria = Actor(get_user_model().objects.get(username="maria.keller"))
    case = do_start_case(
        maria, "role-grant", grant("mia.frank", "master-data-clerk"), submit=True
    ).raise_if_denied()
    anna = client_of("anna.schmidt")
    release = {"action": "release"}
    assert statements(lambda: post(anna, f"/api/v1/cases/{case.pk}/actions", release)) <= 25


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("maria.keller", lambda ids: "/inbox/"),
        ("maria.keller", lambda ids: f"/cases/{ids[0]}/"),
        ("martin.jung", lambda ids: "/audit/"),
        ("maria.keller", lambda ids: "/cases/"),
        ("maria.keller", lambda ids: "/api/v1/events"),  # #18 the polled feed
        ("maria.keller", lambda ids: "/settings/notifications/"),
        # #19: lists sorted by a header, filtered by pickers; the person picker's answers
        ("maria.keller", lambda ids: "/cases/?sort=title&maker=anna.schmidt"),
        ("martin.jung", lambda ids: "/audit/?sort=actor&process=payment-release"),
        ("maria.keller", lambda ids: "/organisation/people/?q=a"),
    ],
    ids=[
        "inbox",
        "case page",
        "audit list",
        "cases list",
        "event feed",
        "notifications",
        "sorted cases list",
        "sorted audit list",
        "person picker",
    ],
)
def test_a_page_needs_at_most_12_statements_whatever_the_number_of_rows(
    demo_bank: Any, who: str, page: Callable[[list[int]], str]
) -> None:
    ids = payments("anna.schmidt", 10)
    client = client_of(who)
    few = statements(lambda: client.get(page(ids)))
    more = payments("lukas.becker", 90)
    release = Command(CommandKind.RELEASE)
    lena = Actor(get_user_model().objects.get(username="lena.schulz"))
    for case in more[:20]:  # some history on the audit trail and in the lists
        do_command_by_id(lena, case, release).raise_if_denied()
    many = statements(lambda: client.get(page(ids)))
    assert few <= 12 and many == few


def _trades(count: int, booked_by: str = "lars.vogt") -> None:
    """Trades of every kind the reports show: unconfirmed, off-market, late, cancelled."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from backoffice.org.models import Unit
    from backoffice.trading.models import Trade

    user = get_user_model().objects.get(username=booked_by)
    desk = Unit.objects.get(key="rates-desk")
    today = timezone.localdate()
    Trade.objects.bulk_create(
        Trade(
            instrument="DE0001102580",
            asset_class="government-bonds",
            side="buy",
            quantity=Decimal(1000),
            price=Decimal(100),
            reference_price=Decimal(99),
            currency="EUR",
            counterparty="Nordbank AG",
            trade_date=today - timedelta(days=i % 7),
            value_date=today,
            desk=desk,
            booked_by=user,
            booked_at=timezone.now(),
            late=True,
            status="cancelled" if i % 5 == 0 else "booked",
            market_check="off_market" if i % 2 else "closed",
            closed_by=None if i % 2 else get_user_model().objects.get(username="ben.krause"),
        )
        for i in range(count)
    )


@pytest.mark.parametrize(
    "page",
    [
        "/trading/",
        "/trading/reports/unconfirmed/",
        "/trading/reports/off-market/",
        "/trading/reports/corrections/",
        "/trading/reports/late/",
        "/api/v1/trading/trades",
        "/api/v1/trading/reports/unconfirmed",
        "/api/v1/trading/reports/off-market",
        "/api/v1/trading/reports/corrections",
        "/api/v1/trading/reports/late",
    ],
)
def test_a_trading_page_or_list_needs_at_most_12_statements_whatever_the_rows(
    demo_bank: Any, page: str
) -> None:
    """#17: the trades and the trading reports, one page of them, for settlement."""
    _trades(10)
    client = client_of("mara.busch")
    few = statements(lambda: client.get(page))
    _trades(120, "emma.berger")
    many = statements(lambda: client.get(page))
    assert few <= 12 and many == few


def test_the_borrower_register_pages_stay_within_their_budget(demo_bank: Any) -> None:
    """#19: the register's page and a borrower's page read a fixed number of statements."""
    from backoffice.credit.demo import seed_demo_credit

    seed_demo_credit()
    lukas = client_of("lukas.becker")
    assert statements(lambda: lukas.get("/credit/borrowers/?q=b")) <= 12
    assert statements(lambda: lukas.get("/credit/borrowers/B000004/")) <= 16


def test_the_global_search_stays_within_its_budget(demo_bank: Any) -> None:
    """#19: the search reads a fixed number of statements, however many hits each kind has."""
    from backoffice.credit.demo import seed_demo_credit
    from backoffice.masterdata.models import Vendor
    from backoffice.walls.seed import seed_demo_walls

    seed_demo_credit()
    seed_demo_walls()
    board = client_of("sabine.roth")  # reads cases, borrowers, vendors

    def vendors(start: int, count: int) -> None:
        Vendor.objects.bulk_create(
            Vendor(number=f"V{n:05}", name=f"Lieferant AG {n}", iban="DE89370400440532013000")
            for n in range(start, start + count)
        )

    vendors(0, 2)
    payments("anna.schmidt", 2)
    few = statements(lambda: board.get("/search/?q=AG"))
    vendors(2, 30)
    payments("anna.schmidt", 15)
    many = statements(lambda: board.get("/search/?q=AG"))
    assert few <= 16 and many == few
    api = statements(lambda: board.get("/api/v1/search?q=AG"))
    assert api <= 16


def test_a_jobs_progress_fragment_needs_at_most_5_statements(demo_bank: Any) -> None:
    """#19: the page asks for it every second while a job runs: the session, its user, the
    job, and the actor's permissions (policy version, memberships)."""
    from backoffice.base.actor import Actor
    from backoffice.jobs.models import Job
    from backoffice.jobs.services import do_start_job

    martin = Actor(get_user_model().objects.get(username="martin.jung"))
    job = do_start_job(martin, "audit.verify", {})
    Job.objects.filter(pk=job.pk).update(state=Job.RUNNING, done=5, total=9)
    client = client_of("martin.jung")
    url = f"/jobs/{job.pk}/"
    fragment = lambda: client.get(url, HTTP_HX_REQUEST="true")  # noqa: E731
    assert statements(fragment) <= 5
