"""#14: the mitigation report comes a page at a time (API: Link header; page: next link),
soonest end first, every mitigation exactly once; its CSV has every mitigation."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backoffice.access.models import Mitigation
from backoffice.base.pages import PAGE_SIZE
from tests.access.test_grants import mitigation
from tests.cases.conftest import Person, problem
from tests.support import api_pages, html_pages

pytestmark = pytest.mark.django_db

#: people who may hold a mitigated risk in the copies (any demo people will do)
PEOPLE = ["eva.hahn", "felix.hoffmann", "paul.meyer"]
Row = tuple[str, str, str]


@pytest.fixture
def compliance(demo_bank: Any) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username="clara.vogel"))
    return client


def more_mitigations(n: int) -> None:
    """``n`` mitigations: the first granted through its four-eyes case, the rest copies of it
    for other people and controls, ending 0, 20, 40 or 60 days from today (several on the
    same day, for the same person and risk: the order falls through to the last field)."""
    if not Mitigation.objects.exists():
        started = Person("anna.schmidt").start("mitigation", mitigation("eva.hahn"))
        assert started.status_code == 201, started.content
        released = Person("clara.vogel").act(started.json()["id"], "release")
        assert released.json()["status"] == "released", released.content
        n -= 1
    first = Mitigation.objects.earliest("pk")
    users = get_user_model().objects.in_bulk(PEOPLE, field_name="username")
    today = timezone.localdate()
    copies = []
    start = Mitigation.objects.count()
    for i in range(start, start + n):
        copy = Mitigation.objects.get(pk=first.pk)
        copy.pk = None
        copy.person = users[PEOPLE[i % len(PEOPLE)]]
        copy.control = f"CTRL-{i:03d}"
        copy.valid_until = today + timedelta(days=20 * (i % 4))
        copies.append(copy)
    Mitigation.objects.bulk_create(copies)


def expected(status: str = "all") -> list[Row]:
    """The report's rows in its order, straight from the table."""
    rows = Mitigation.objects.all()
    if status == "expiring":
        today = timezone.localdate()
        rows = rows.filter(valid_until__gte=today, valid_until__lt=today + timedelta(days=30))
    ordered = rows.order_by("valid_until", "person__username", "risk", "pk")
    return list(ordered.values_list("person__username", "risk", "control"))


def walk_api(client: Client, url: str) -> tuple[list[Row], int]:
    """Every mitigation the API lists, following the Link header to the last page."""
    pages = api_pages(client, url)
    return [(m["person"], m["risk"], m["control"]) for page in pages for m in page], len(pages)


ROW = re.compile(
    r'<tr class="state-\w+"><td>([^<]*)</td>.*?<span class="muted">([^<]*)</span>'
    r".*?<code>([^<]*)</code>",
    re.DOTALL,
)


def walk_html(client: Client, url: str) -> tuple[list[Row], int]:
    """Every mitigation the page shows, following "Next page" to the last page."""
    pages = html_pages(client, url)
    return [row for _, text in pages for row in ROW.findall(text)], len(pages)


def test_walking_the_api_pages_yields_every_mitigation_once_soonest_end_first(
    compliance: Client,
) -> None:
    more_mitigations(7)
    want = expected()
    assert len(want) == 7
    seen, pages = walk_api(compliance, "/api/v1/access/mitigations?limit=3")
    assert seen == want
    assert pages == 3  # the last page has no Link
    assert walk_api(compliance, "/api/v1/access/mitigations") == (want, 1)


def test_the_status_filter_holds_on_every_page(compliance: Client) -> None:
    more_mitigations(12)
    want = expected("expiring")
    assert 3 < len(want) < 12
    seen, _ = walk_api(compliance, "/api/v1/access/mitigations?status=expiring&limit=2")
    assert seen == want
    shown, _ = walk_html(compliance, "/access/mitigations/?status=expiring&limit=2")
    assert shown == want


def test_walking_the_html_pages_yields_every_mitigation_once(compliance: Client) -> None:
    more_mitigations(7)
    seen, pages = walk_html(compliance, "/access/mitigations/?limit=3")
    assert seen == expected()
    assert pages == 3  # the last page has no next link
    bad = compliance.get("/access/mitigations/?limit=3&after=not-a-cursor")
    assert ROW.findall(bad.content.decode()) == expected()[:3]  # a bad cursor: the first page


@pytest.mark.parametrize(
    "after",
    [
        "not-a-cursor",  # not base64 JSON
        "WzEsIDIsIDNd",  # three values: the report sorts by four fields
        "WyJ4IiwgImEiLCAiYiIsIDFd",  # text where the first field, a day, belongs
    ],
)
def test_a_malformed_cursor_is_a_problem_naming_after(compliance: Client, after: str) -> None:
    body = problem(
        compliance.get(f"/api/v1/access/mitigations?after={after}"), 422, "input.invalid"
    )
    assert "after" in body["detail"]


def test_the_csv_has_every_mitigation_even_beyond_one_page(compliance: Client) -> None:
    more_mitigations(PAGE_SIZE + 5)
    response = compliance.get("/api/v1/access/mitigations?format=csv&limit=3")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    exported = list(csv.DictReader(io.StringIO(response.getvalue().decode(), newline="")))
    assert len(exported) == PAGE_SIZE + 5
    assert [(m["person"], m["risk"], m["control"]) for m in exported] == expected()
    assert len(compliance.get("/api/v1/access/mitigations").json()) == PAGE_SIZE


def queries_of(client: Client, url: str) -> int:
    client.get(url)  # warm-up: caches of the policy and the session
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/api/v1/access/mitigations", "/access/mitigations/"])
def test_a_page_costs_the_same_queries_for_3_mitigations_and_for_30(
    compliance: Client, url: str
) -> None:
    more_mitigations(3)
    few = queries_of(compliance, url)
    more_mitigations(27)
    assert len(expected()) == 30
    assert queries_of(compliance, url) == few
