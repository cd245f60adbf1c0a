"""#14: the credit registers and reports come a page at a time (API: Link header; page: next
link), every row exactly once and in the reader's order; CSV downloads have every row."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.base.pages import PAGE_SIZE
from backoffice.cases.models import Case
from backoffice.credit.models import Borrower, BorrowerGroup, Credit, CreditDecision
from tests.credit.conftest import Voter, problem
from tests.credit.test_reports import approved, rows
from tests.support import api_pages, html_pages

V = Callable[[str], Voter]
Cases = Callable[..., int]

#: the API lists and, for each, the field that identifies a row
API_LISTS = {
    "/credit/register": "case",
    "/credit/escalations": "case",
    "/credit/risk-report": "case",
    "/credit/reviews/overdue": "credit",
}
#: the HTML pages of the same reports
PAGES = ["/credit/register/", "/credit/escalations/", "/credit/risk-report/", "/credit/reviews/"]


def more_decisions(n: int) -> None:
    """``n`` more credit cases in the register, copies of the latest one (as if decided and
    escalated today), every third neither escalated nor flagged: the filtered reports skip it."""
    last = CreditDecision.objects.select_related("case").latest("case_id")
    cases = []
    for _ in range(n):
        copy = Case.objects.get(pk=last.case_id)
        copy.pk = None
        cases.append(copy)
    cases = Case.objects.bulk_create(cases)
    decisions = []
    for i, new_case in enumerate(cases):
        copy = CreditDecision.objects.get(pk=last.pk)
        copy.pk, copy.case = None, new_case
        copy.decided_at = timezone.now()
        copy.escalation_level = "" if i % 3 == 2 else "L4"
        copy.deviating_decision = i % 3 != 2
        decisions.append(copy)
    CreditDecision.objects.bulk_create(decisions)


def more_overdue_credits(n: int) -> None:
    """``n`` more booked credits overdue for review, copies of the latest one; several share
    a due day, so the order is by day and then by credit."""
    more_decisions(n)
    template = Credit.objects.latest("pk")
    taken = set(Credit.objects.values_list("decision_id", flat=True))
    free = CreditDecision.objects.exclude(pk__in=taken).order_by("case_id")[:n]
    today = timezone.localdate()
    credits = []
    for i, decision in enumerate(free):
        copy = Credit.objects.get(pk=template.pk)
        copy.pk, copy.decision = None, decision
        copy.review_due = today - timedelta(days=1 + i % 3)
        credits.append(copy)
    Credit.objects.bulk_create(credits)


def expected(path: str) -> list[int]:
    """What a report lists, in its order, straight from the tables."""
    decisions = CreditDecision.objects.order_by("case_id")
    if path.startswith("/credit/reviews"):
        overdue = Credit.objects.filter(review_due__lt=timezone.localdate())
        return list(overdue.order_by("review_due", "pk").values_list("pk", flat=True))
    if path.startswith("/credit/escalations"):
        decisions = decisions.exclude(escalation_level="")
    elif path.startswith("/credit/risk-report"):
        decisions = decisions.filter(
            Q(deviating_decision=True) | Q(back_office_board_decision=True)
        )
    return list(decisions.values_list("case_id", flat=True))


def walk_api(client: Client, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every row the API lists, following the Link header from the first page to the last."""
    pages = api_pages(client, url)
    return [row for page in pages for row in page], len(pages)


#: a report row's first cell (a case number is a link to the case, #19)
FIRST_CELL = r'<tr><td class="col-\w+">(?:<a href="[^"]*">#)?([^<]*)<'


def walk_html(client: Client, url: str) -> tuple[list[str], int]:
    """The first cell of every row the page shows, following "Next page" to the last page."""
    seen: list[str] = []
    pages = html_pages(client, url)
    for _, text in pages:
        shown = re.findall(FIRST_CELL, text)
        assert f"{len(shown)} row" in text  # the caption counts the rows of this page
        seen += shown
    return seen, len(pages)


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def auditor(voter: V) -> Client:
    return as_user("martin.jung")  # internal audit reads the reports


@pytest.fixture
def seven(voter: V, case: Cases) -> None:
    """Seven overdue credits and more than seven decisions (some not flagged or escalated)."""
    approved(voter, case)
    more_overdue_credits(7)
    more_decisions(4)


@pytest.mark.usefixtures("seven")
@pytest.mark.parametrize("path", API_LISTS)
def test_walking_the_api_pages_yields_every_row_once_in_order(auditor: Client, path: str) -> None:
    key = API_LISTS[path]
    want = expected(path)
    assert len(want) >= 7
    seen, pages = walk_api(auditor, f"/api/v1{path}?limit=3")
    assert [row[key] for row in seen] == want
    assert pages == -(-len(want) // 3)  # the last page has no Link
    whole = auditor.get(f"/api/v1{path}")
    assert "Link" not in whole.headers and [r[key] for r in whole.json()] == want


@pytest.mark.usefixtures("seven")
def test_the_risk_report_keeps_its_period_from_page_to_page(auditor: Client) -> None:
    today = timezone.localdate()
    url = f"/api/v1/credit/risk-report?start={today}&end={today}&limit=2"
    seen, _ = walk_api(auditor, url)
    assert [row["case"] for row in seen] == expected("/credit/risk-report")
    earlier = today - timedelta(days=30)
    assert walk_api(auditor, f"/api/v1/credit/risk-report?start={earlier}&end={earlier}") == (
        [],
        1,
    )


@pytest.mark.usefixtures("seven")
@pytest.mark.parametrize("path", PAGES)
def test_walking_the_html_pages_yields_every_row_once_in_order(auditor: Client, path: str) -> None:
    today = timezone.localdate()
    query = f"?start={today}&end={today}&limit=3" if "risk" in path else "?limit=3"
    want = [str(pk) for pk in expected(path)]
    seen, pages = walk_html(auditor, path + query)
    assert seen == want
    assert pages == -(-len(want) // 3)  # the last page has no next link


@pytest.mark.usefixtures("seven")
def test_a_bad_cursor_shows_the_first_page(auditor: Client) -> None:
    first = auditor.get("/credit/register/?limit=3").content.decode()
    again = auditor.get("/credit/register/?limit=3&after=not-a-cursor").content.decode()
    assert re.findall(FIRST_CELL, again) == re.findall(FIRST_CELL, first)
    assert re.findall(FIRST_CELL, first)


#: not base64 JSON; a list of three values (no list here sorts by three fields)
MALFORMED = ["not-a-cursor", "WzEsIDIsIDNd"]
#: the sort key of a tampered cursor: text where a case number or a day belongs
TAMPERED = {1: "WyJ4Il0", 2: "WyJ4IiwgMV0"}


@pytest.mark.parametrize("path", [*API_LISTS, "/credit/borrowers"])
@pytest.mark.parametrize("after", MALFORMED)
def test_a_malformed_cursor_is_a_problem_naming_after(
    auditor: Client, path: str, after: str
) -> None:
    body = problem(auditor.get(f"/api/v1{path}?after={after}"), 422, "input.invalid")
    assert "after" in body["detail"]


@pytest.mark.parametrize("path", API_LISTS)
def test_a_tampered_cursor_is_a_problem_naming_after(auditor: Client, path: str) -> None:
    after = TAMPERED[2 if "reviews" in path else 1]
    body = problem(auditor.get(f"/api/v1{path}?after={after}"), 422, "input.invalid")
    assert "after" in body["detail"]
    page = auditor.get(f"/credit/{'reviews' if 'reviews' in path else 'register'}/?after={after}")
    assert page.status_code == 200  # a page shows its first page instead


@pytest.mark.parametrize("path", API_LISTS)
def test_the_csv_has_every_row_even_beyond_one_page(
    auditor: Client, voter: V, case: Cases, path: str
) -> None:
    approved(voter, case)
    more_overdue_credits(2 * PAGE_SIZE)  # a third of them are not escalated or flagged
    key = API_LISTS[path]
    want = expected(path)
    assert len(want) > PAGE_SIZE
    exported = rows(auditor.get(f"/api/v1{path}?format=csv&limit=3"))
    assert [int(r[key]) for r in exported] == want
    assert len(auditor.get(f"/api/v1{path}").json()) == PAGE_SIZE


def queries_of(client: Client, url: str) -> int:
    client.get(url)  # warm-up: caches of the policy and the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", [*[f"/api/v1{p}" for p in API_LISTS], *PAGES])
def test_a_page_costs_the_same_queries_for_3_rows_and_for_30(
    auditor: Client, voter: V, case: Cases, path: str
) -> None:
    approved(voter, case)
    more_overdue_credits(2)
    assert len(expected(path.removeprefix("/api/v1"))) >= 2
    few = queries_of(auditor, path)
    more_overdue_credits(27)
    assert len(expected(path.removeprefix("/api/v1"))) >= 18
    assert queries_of(auditor, path) == few


def test_the_borrowers_come_a_page_at_a_time_by_number(voter: V) -> None:
    group = BorrowerGroup.objects.first()
    assert group is not None
    Borrower.objects.bulk_create(
        Borrower(number=f"T{i:06d}", name=f"Test borrower {i}", group=group) for i in range(7)
    )
    want = list(Borrower.objects.order_by("number").values_list("number", flat=True))
    officer = as_user("maria.keller")  # back office: works on credits
    seen, pages = walk_api(officer, "/api/v1/credit/borrowers?limit=3")
    assert [b["number"] for b in seen] == want
    assert pages == -(-len(want) // 3)
    few = queries_of(officer, "/api/v1/credit/borrowers?limit=3")
    assert queries_of(officer, "/api/v1/credit/borrowers?limit=30") == few
    refused = as_user("tim.hartmann").get("/api/v1/credit/borrowers?limit=3")
    problem(refused, 403, "reports.forbidden")  # a page is only of what one may see
