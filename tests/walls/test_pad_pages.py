"""#17 pages: one's own personal orders and attestation, compliance's orders and the
attestation report, the insider list's 2016/347 exports; in English and German."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backoffice.cases.models import Case
from backoffice.walls.models import FactCheck, PadAttestation, PadOrder
from tests.walls.conftest import People, open_project


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/walls/pad/", "/walls/pad/orders/", "/walls/pad/attestations/"])
def test_every_pad_page_needs_a_login(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_an_employee_places_orders_and_attests_from_the_page(person: People) -> None:
    felix = as_user("felix.hoffmann")
    assert 'href="/walls/pad/"' in felix.get("/").content.decode()
    placed = felix.post(
        "/walls/pad/", {"place": "1", "issuer": "hansebank", "side": "buy", "quantity": "5"}
    )
    assert placed.status_code == 302
    sold = felix.post(
        "/walls/pad/", {"place": "1", "issuer": "hansebank", "side": "sell", "quantity": "5"}
    )
    assert sold.status_code == 302
    page = felix.get("/walls/pad/").content.decode()
    assert "Hanse Kreditbank AG" in page and "PAD-4" in page  # the blocked sale says why
    bad = felix.post(
        "/walls/pad/", {"place": "1", "issuer": "hansebank", "side": "buy", "quantity": "0"}
    )
    assert bad.status_code == 422
    assert felix.post("/walls/pad/", {"attest": "1"}).status_code == 302
    assert PadAttestation.objects.get(employee__username="felix.hoffmann").orders == 2
    again = felix.post("/walls/pad/", {"attest": "1"})
    assert again.status_code == 422 and "pad.invalid" in again.content.decode()
    for url in ("/walls/pad/orders/", "/walls/pad/attestations/"):
        refused = felix.get(url)
        assert refused.status_code == 403 and "wall.forbidden" in refused.content.decode()


def test_compliance_asks_to_clear_a_blocked_order_from_the_page(person: People) -> None:
    clara = as_user("clara.vogel")  # German is her language
    clara.post("/walls/", {"add": "1", "kind": "restricted", "issuer": "autowerk", "reason": "IPO"})
    felix = as_user("felix.hoffmann")
    felix.post("/walls/pad/", {"place": "1", "issuer": "autowerk", "side": "buy", "quantity": "3"})
    order = PadOrder.objects.get()
    page = clara.get("/walls/pad/orders/").content.decode()
    assert "Private Geschäfte" in page and f'name="clear" value="{order.pk}"' in page
    assert (
        clara.post("/walls/pad/orders/", {"clear": str(order.pk), "reason": ""}).status_code == 422
    )
    asked = clara.post("/walls/pad/orders/", {"clear": str(order.pk), "reason": "hardship"})
    assert asked.status_code == 302
    case = Case.objects.get(process__key="pad-clearance")
    assert person("paula.schwarz").act(case.pk, "release").json()["status"] == "released"
    assert PadOrder.objects.get().status == "cleared"
    report = clara.get("/walls/pad/attestations/").content.decode()
    assert "Bestätigungen" in report and "felix.hoffmann" in report
    audit = as_user("martin.jung")
    assert (
        'method="post"'
        not in audit.get("/walls/pad/orders/").content.decode().split("</header>", 1)[1]
    )


def test_the_project_page_links_the_regulations_exports(person: People) -> None:
    open_project(person)
    html = as_user("clara.vogel").get("/walls/projects/project-falcon/").content.decode()
    assert 'href="/api/v1/walls/projects/project-falcon/insider-list.csv"' in html
    assert 'href="/api/v1/walls/projects/project-falcon/insider-list.xlsx"' in html


def test_the_attestation_report_costs_the_same_for_more_orders(person: People) -> None:
    clara = as_user("clara.vogel")
    felix = person("felix.hoffmann")

    def count() -> int:
        clara.get("/walls/pad/attestations/")
        with CaptureQueriesContext(connection) as queries:
            assert clara.get("/walls/pad/attestations/").status_code == 200
        return len(queries)

    felix.post("/walls/pad/orders", {"issuer": "hansebank", "side": "buy", "quantity": 1})
    few = count()
    for issuer in ("nordbank", "rheinbank", "autowerk", "motorenbau"):
        person("lukas.becker").post(
            "/walls/pad/orders", {"issuer": issuer, "side": "buy", "quantity": 1}
        )
    assert count() == few


def test_research_sends_a_fact_check_from_its_drafts_page(person: People) -> None:
    draft = person("lisa.neumann").start(
        "research-publication",
        {
            "issuer": "hansebank",
            "headline": "Deposits grow",
            "rating": "buy",
            "price_target": "EUR 18.40",
            "summary": "Fees up.",
        },
    )
    case = draft.json()["id"]
    tim = as_user("tim.hartmann")
    assert 'href="/walls/research/"' in tim.get("/").content.decode()
    page = tim.get("/walls/research/").content.decode()
    assert "Deposits grow" in page and "price_target" in page and "18.40" not in page
    assert tim.post("/walls/research/", {"fact_check": str(case)}).status_code == 302
    assert FactCheck.objects.get().sent_by == "tim.hartmann"
    assert tim.post("/walls/research/", {"fact_check": "x"}).status_code == 422
    outsider = as_user("niklas.wolf")
    assert 'href="/walls/research/"' not in outsider.get("/").content.decode()
    refused = outsider.get("/walls/research/")
    assert refused.status_code == 403 and "wall.forbidden" in refused.content.decode()
    jan = as_user("jan.schmitt")  # private side: the wall hides the draft anyway
    assert jan.get("/walls/research/").status_code == 403


def test_the_drafts_page_costs_the_same_for_more_drafts(person: People) -> None:
    tim, lisa = as_user("tim.hartmann"), person("lisa.neumann")

    def count() -> int:
        tim.get("/walls/research/")
        with CaptureQueriesContext(connection) as queries:
            assert tim.get("/walls/research/").status_code == 200
        return len(queries)

    def draft(issuer: str) -> int:
        payload = {"issuer": issuer, "headline": "H", "rating": "hold", "summary": "S"}
        return int(lisa.start("research-publication", payload).json()["id"])

    lisa.post(f"/walls/research/{draft('hansebank')}/fact-check", {})
    few = count()
    for issuer in ("nordbank", "rheinbank", "autowerk", "motorenbau"):
        lisa.post(f"/walls/research/{draft(issuer)}/fact-check", {})
    assert count() == few
