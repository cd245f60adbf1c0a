"""#14: the cases list and the delegations come one page at a time (keyset), newest first.

A page is "the next rows after the last one shown", so walking the pages shows every row
exactly once however many there are; the next page is a link on the HTML pages and a
``Link: <…>; rel="next"`` header on the API, and neither is there on the last page.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.base.actor import Actor
from backoffice.cases.models import Delegation
from backoffice.cases.services import do_start_case
from tests.cases.conftest import payment, problem
from tests.support import NEXT_PAGE, api_pages, html_pages

User = get_user_model()

CASE_ROW = re.compile(r'<tr><td>(\d+)</td><td><a href="/cases/\d+/">')
DELEGATION_ROW = re.compile(r"<td>(away-\d+)</td>")


def client_of(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def start_cases(count: int, maker: str = "anna.schmidt", *, submit: bool = True) -> list[int]:
    actor = Actor(User.objects.get(username=maker))
    return [
        do_start_case(actor, "payment-release", payment(f"{100 + n}.00"), submit=submit)
        .raise_if_denied()
        .pk
        for n in range(count)
    ]


def walk_html(client: Client, url: str, row: re.Pattern[str]) -> tuple[list[str], list[str]]:
    """Every row of every page, following the "Next page" links; and the links followed."""
    pages = html_pages(client, url)
    return [r for _, html in pages for r in row.findall(html)], [u for u, _ in pages[1:]]


def walk_api(client: Client, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of every page, following the ``Link`` header; and the number of pages."""
    pages = api_pages(client, url)
    return [item for page in pages for item in page], len(pages)


def page_statements(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# -- the cases list ------------------------------------------------------------------------


def test_the_cases_list_shows_every_case_once_newest_first_page_by_page(demo_bank: Any) -> None:
    created = start_cases(7)
    rows, followed = walk_html(client_of("anna.schmidt"), "/cases/?limit=3", CASE_ROW)
    assert [int(pk) for pk in rows] == sorted(created, reverse=True)
    assert len(followed) == 2  # 3 + 3 + 1: the last page has no next link


def test_the_next_link_keeps_the_filters(demo_bank: Any) -> None:
    submitted = start_cases(4)
    start_cases(3, submit=False)  # drafts: not in the list of submitted cases
    url = "/cases/?state=submitted&process=payment-release&limit=2"
    rows, followed = walk_html(client_of("anna.schmidt"), url, CASE_ROW)
    assert [int(pk) for pk in rows] == sorted(submitted, reverse=True)
    assert followed and all(
        "state=submitted" in link and "process=payment-release" in link for link in followed
    )


def test_a_later_page_leads_back_to_the_newest_cases_with_the_same_filters(
    demo_bank: Any,
) -> None:
    start_cases(3)
    anna = client_of("anna.schmidt")
    first = anna.get("/cases/?state=submitted&limit=2").content.decode()
    assert "Newest cases" not in first
    later = anna.get(unescape(NEXT_PAGE.search(first).group(1))).content.decode()  # type: ignore[union-attr]
    back = re.search(r'<a href="([^"]+)">Newest cases</a>', later)
    assert back is not None and unescape(back.group(1)) == "/cases/?state=submitted&limit=2"


def test_a_page_of_cases_holds_only_what_the_person_may_see(demo_bank: Any) -> None:
    start_cases(4)
    rows, followed = walk_html(client_of("tim.hartmann"), "/cases/?limit=2", CASE_ROW)
    assert rows == [] and followed == []


def test_the_htmx_table_has_the_next_link_and_no_count(demo_bank: Any) -> None:
    created = start_cases(3)
    response = client_of("anna.schmidt").get("/cases/?limit=2", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html  # the table alone, for the filter form to swap in
    assert [int(pk) for pk in CASE_ROW.findall(html)] == sorted(created, reverse=True)[:2]
    assert NEXT_PAGE.search(html) is not None
    assert "newest first" in html and "3 cases" not in html


def test_a_cursor_that_is_not_one_shows_the_first_page(demo_bank: Any) -> None:
    created = start_cases(2)
    response = client_of("anna.schmidt").get("/cases/?after=%25%25nonsense")
    assert response.status_code == 200
    rows = CASE_ROW.findall(response.content.decode())
    assert [int(pk) for pk in rows] == sorted(created, reverse=True)


def test_a_page_of_cases_reads_as_many_statements_for_3_cases_as_for_30(demo_bank: Any) -> None:
    start_cases(3)
    maria = client_of("maria.keller")  # a checker: sees them through the process
    maria.get("/cases/")  # warm up what is read once per policy version
    few = page_statements(maria, "/cases/")
    start_cases(27, maker="lukas.becker")
    html = maria.get("/cases/").content.decode()
    assert len(CASE_ROW.findall(html)) == 30
    assert page_statements(maria, "/cases/") == few


# -- delegations ---------------------------------------------------------------------------

#: days from today each delegation starts (ties: the later one created comes first)
STARTS = [5, 3, 3, 9, 1, 3, 7]


def delegations(count: int, person: str = "lena.schulz") -> list[Delegation]:
    """``count`` delegations ``person`` gave or received, and one between two others."""
    me = User.objects.get(username=person)
    other = User.objects.get(username="jonas.fischer")
    stranger = User.objects.get(username="anna.schmidt")
    today = timezone.localdate()
    rows = []
    for n in range(count):
        start = today + timedelta(days=STARTS[n % len(STARTS)])
        given = n % 2 == 0
        rows.append(
            Delegation.objects.create(
                principal=me if given else other,
                substitute=other if given else me,
                valid_from=start,
                valid_to=start + timedelta(days=10),
                reason=f"away-{n}",
                created_by="test",
            )
        )
    Delegation.objects.create(
        principal=stranger,
        substitute=other,
        valid_from=today,
        valid_to=today + timedelta(days=3),
        reason="away-999",
        created_by="test",
    )
    return rows


def latest_start_first(rows: list[Delegation]) -> list[Delegation]:
    return sorted(rows, key=lambda d: (d.valid_from, d.pk), reverse=True)


def test_the_api_pages_delegations_with_the_link_header(demo_bank: Any) -> None:
    rows = delegations(7)
    items, pages = walk_api(client_of("lena.schulz"), "/api/v1/delegations?limit=3")
    assert [i["id"] for i in items] == [d.pk for d in latest_start_first(rows)]
    assert pages == 3


def test_the_last_page_of_delegations_has_no_link(demo_bank: Any) -> None:
    delegations(3)
    response = client_of("lena.schulz").get("/api/v1/delegations?limit=3")
    assert len(response.json()) == 3 and "Link" not in response
    assert "Link" in client_of("lena.schulz").get("/api/v1/delegations?limit=2")


@pytest.mark.parametrize(
    "after",
    ["not-a-cursor!", base64.urlsafe_b64encode(b"[1]").decode(), "e30"],
    ids=["garbage", "a cursor of another list", "not a list"],
)
def test_a_malformed_cursor_is_a_problem_naming_after(demo_bank: Any, after: str) -> None:
    delegations(2)
    response = client_of("lena.schulz").get("/api/v1/delegations", {"after": after})
    body = problem(response, 422, "input.invalid")
    assert "after" in body["detail"]


def test_a_page_size_beyond_the_limit_is_refused(demo_bank: Any) -> None:
    response = client_of("lena.schulz").get("/api/v1/delegations?limit=201")
    assert response.status_code == 422 and "limit" in response.content.decode()


def test_a_page_of_delegations_reads_as_many_statements_for_3_as_for_30(demo_bank: Any) -> None:
    delegations(3)
    lena = client_of("lena.schulz")
    lena.get("/api/v1/delegations")
    few_api = page_statements(lena, "/api/v1/delegations")
    few_page = page_statements(lena, "/delegations/")
    delegations(27)
    assert len(lena.get("/api/v1/delegations").json()) == 30
    assert page_statements(lena, "/api/v1/delegations") == few_api
    assert page_statements(lena, "/delegations/") == few_page


def test_the_delegations_page_shows_each_once_with_a_next_link(demo_bank: Any) -> None:
    rows = delegations(7)
    seen, followed = walk_html(client_of("lena.schulz"), "/delegations/?limit=3", DELEGATION_ROW)
    assert seen == [d.reason for d in latest_start_first(rows)]  # never the stranger's
    assert len(followed) == 2
