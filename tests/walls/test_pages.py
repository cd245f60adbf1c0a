"""Compliance's walls pages in the browser's terms (Django's test client), in two languages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.text import slugify

from backoffice.audit.services import do_record_denial
from backoffice.cases.models import Case
from backoffice.walls.models import (
    ConflictClass,
    DealProject,
    Issuer,
    IssuerDocument,
    ListEntry,
    PadOrder,
    ProjectMember,
    WallCrossing,
)
from tests.cases.conftest import Person
from tests.support import LINK_NEXT, NEXT_PAGE, api_pages, html_pages
from tests.walls.conftest import People, cross, open_project

PAGES = ["/walls/", "/walls/restricted/", "/walls/crossings/", "/walls/denials/"]


def as_user(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*PAGES, "/walls/projects/project-falcon/"])
def test_every_walls_page_needs_a_login(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_compliance_sees_the_walls_and_the_navigation_links_there(person: People) -> None:
    open_project(person)
    cross(person, "tim.hartmann")
    clara = as_user("clara.vogel")  # German is her language
    assert 'href="/walls/"' in clara.get("/").content.decode()
    for url in [*PAGES, "/walls/projects/project-falcon/"]:
        page = clara.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert "<caption>" in html and "style=" not in html and "<script>" not in html
    overview = clara.get("/walls/").content.decode()
    assert "Vertraulichkeitsbereiche" in overview and "Beobachtungsliste" in overview
    assert "Nordbank AG" in overview and 'href="/api/v1/walls/watch-list.csv"' in overview
    insiders = clara.get("/walls/projects/project-falcon/").content.decode()
    assert "Insiderliste" in insiders and "valuation of the bank" in insiders
    assert 'href="/api/v1/walls/projects/project-falcon/insiders.csv"' in insiders


def test_internal_audit_reads_the_walls_pages_without_the_forms(person: People) -> None:
    open_project(person)
    cross(person, "tim.hartmann")
    martin = as_user("martin.jung")
    assert 'href="/walls/"' in martin.get("/").content.decode()
    for url in [*PAGES, "/walls/projects/project-falcon/"]:
        page = martin.get(url)
        assert page.status_code == 200, url
        assert 'method="post"' not in page.content.decode().split("</header>", 1)[1], url
    refused = martin.post(
        "/walls/", {"add": "1", "kind": "watch", "issuer": "autowerk", "reason": "x"}
    )
    assert refused.status_code == 403 and "wall.forbidden" in refused.content.decode()


def test_anyone_else_gets_the_restricted_list_but_no_compliance_page(person: People) -> None:
    open_project(person)
    tim = as_user("tim.hartmann")
    assert 'href="/walls/"' not in tim.get("/").content.decode()
    restricted = tim.get("/walls/restricted/")
    assert restricted.status_code == 200 and "Nordbank" not in restricted.content.decode()
    for url in [
        "/walls/",
        "/walls/crossings/",
        "/walls/denials/",
        "/walls/projects/project-falcon/",
    ]:
        refused = tim.get(url)
        assert refused.status_code == 403 and "wall.forbidden" in refused.content.decode()


def test_compliance_works_the_lists_from_the_page(person: People) -> None:
    clara = as_user("clara.vogel")
    added = clara.post(
        "/walls/", {"add": "1", "kind": "restricted", "issuer": "motorenbau", "reason": "IPO"}
    )
    assert added.status_code == 302
    entry = ListEntry.objects.get(issuer__key="motorenbau", until__isnull=True)
    again = clara.post(
        "/walls/", {"add": "1", "kind": "restricted", "issuer": "motorenbau", "reason": "x"}
    )
    assert again.status_code == 422 and "wall.invalid" in again.content.decode()
    missing = clara.post("/walls/", {"remove": str(entry.pk), "reason": ""})
    assert missing.status_code == 422
    asked = clara.post("/walls/", {"remove": str(entry.pk), "reason": "IPO done"})
    assert asked.status_code == 302
    assert ListEntry.objects.get(pk=entry.pk).until is None  # waits for a second officer
    lift = Case.objects.get(process__key="restricted-list-lift", status="submitted")
    released = person("paula.schwarz").act(lift.pk, "release")
    assert released.json()["status"] == "released", released.content
    ended = ListEntry.objects.get(pk=entry.pk)
    assert ended.until is not None and ended.removed_by == "paula.schwarz"
    assert ended.removal_reason.startswith("IPO done (case")


def test_compliance_runs_a_project_and_its_crossings_from_the_pages(person: People) -> None:
    open_project(person)
    cross(person, "tim.hartmann")
    clara = as_user("clara.vogel")
    project = "/walls/projects/project-falcon/"
    joined = clara.post(project, {"member": "1", "person": "laura.lange", "reason": "structuring"})
    assert joined.status_code == 302
    outside = clara.post(project, {"member": "1", "person": "niklas.wolf", "reason": "help"})
    assert outside.status_code == 403 and "wall.not_inside" in outside.content.decode()
    assert clara.post(project, {"action": "announce", "reason": ""}).status_code == 422
    assert clara.post(project, {"action": "announce", "reason": "published"}).status_code == 302
    crossing = WallCrossing.objects.get()
    page = clara.get("/walls/crossings/").content.decode()
    assert re.search(rf'name="end" value="{crossing.pk}"', page)
    assert (
        clara.post("/walls/crossings/", {"end": str(crossing.pk), "reason": ""}).status_code == 422
    )
    ended = clara.post("/walls/crossings/", {"end": str(crossing.pk), "reason": "done"})
    assert ended.status_code == 302 and WallCrossing.objects.get().end_reason == "done"
    assert clara.post(project, {"action": "close", "reason": "over"}).status_code == 302
    closed = clara.get(project).content.decode()
    assert 'value="close"' not in closed  # nothing left to do on a closed project


def test_the_case_page_of_a_walled_case_is_missing_outside_the_wall(person: People) -> None:
    deal = open_project(person)
    tim = as_user("tim.hartmann")
    page, missing = tim.get(f"/cases/{deal['id']}/"), tim.get("/cases/999999/")
    assert page.status_code == missing.status_code == 404  # #13: unknown and walled alike
    assert "case.not_found" in page.content.decode()
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
    seen, absent = (token.sub("", r.content.decode()) for r in (page, missing))
    assert seen == absent.replace("999999", str(deal["id"]))
    assert "Nordbank" not in page.content.decode()
    assert as_user("jan.schmitt").get(f"/cases/{deal['id']}/").status_code == 200


# -- #14: every walls list that grows comes in pages ---------------------------------------------
#
# Each list is filled with rows that carry a marker (``row-00``, ``row-01``, …) in a column the
# API, the CSV and the page all show; walking the pages must yield every marker once, in the
# list's order.

MARK = re.compile(r"row-\d\d")
START = timezone.now() - timedelta(days=20)


def marker(i: int) -> str:
    return f"row-{i:02d}"


def _user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


def _issuer(name: str) -> Issuer:
    banks = ConflictClass.objects.get(key="banks")
    return Issuer.objects.create(key=slugify(name), name=name, conflict_class=banks)


def _project(name: str, key: str = "") -> DealProject:
    return DealProject.objects.create(
        key=key or slugify(name),
        name=name,
        issuer=Issuer.objects.get(key="hansebank"),
        area="private-side",
        mandate="advisory",
        lead=_user("jan.schmitt"),
    )


def _crossing(project: DealProject, since: datetime, reason: str) -> WallCrossing:
    return WallCrossing.objects.create(
        user=_user("tim.hartmann"),
        project=project,
        valid_from=since,
        valid_to=since + timedelta(days=30),
        reason=reason,
        requested_by="jan.schmitt",
        approved_by="clara.vogel",
    )


# Each maker adds rows ``start`` … ``start + n - 1`` and returns their markers in list order.


def make_issuers(start: int, n: int) -> list[str]:
    for i in range(start, start + n):
        _issuer(f"Issuer {marker(i)}")
    return [marker(i) for i in range(start, start + n)]  # by name


def make_restricted(start: int, n: int) -> list[str]:
    for i in range(start, start + n):
        issuer = _issuer(f"Restricted {marker(i)}")
        for hours in (0, 1):  # listed twice (two projects, say): one row, since the first
            ListEntry.objects.create(
                kind=ListEntry.Kind.RESTRICTED,
                issuer=issuer,
                since=START + timedelta(hours=2 * i + hours),
                reason="IPO",
                added_by="clara.vogel",
            )
    return [marker(i) for i in range(start, start + n)]  # longest restricted first


def make_watch(start: int, n: int) -> list[str]:
    for i in range(start, start + n):
        ListEntry.objects.create(
            kind=ListEntry.Kind.WATCH,
            issuer=_issuer(f"Watched {marker(i)}"),
            since=START + timedelta(hours=i),
            reason=f"mandate {marker(i)}",
            added_by="clara.vogel",
        )
    return [marker(i) for i in reversed(range(start, start + n))]  # newest first


def make_projects(start: int, n: int) -> list[str]:
    for i in range(start, start + n):
        _project(f"Project {marker(i)}", key=f"deal-{i}")  # the key shows no marker
    return [marker(i) for i in range(start, start + n)]  # by name


def make_insiders(start: int, n: int) -> list[str]:
    """Deal team members and crossings of one project, interleaved in time."""
    project = DealProject.objects.filter(key="project-insiders").first() or _project(
        "Project Insiders"
    )
    for i in range(start, start + n):
        since = START + timedelta(hours=i)
        if i % 2:
            _crossing(project, since, f"valuation {marker(i)}")
        else:
            ProjectMember.objects.create(
                project=project,
                user=_user("jan.schmitt"),
                since=since,
                until=since + timedelta(minutes=30),
                reason=f"structuring {marker(i)}",
                added_by="clara.vogel",
            )
    return [marker(i) for i in range(start, start + n)]  # earliest first


def make_crossings(start: int, n: int) -> list[str]:
    project = DealProject.objects.filter(key="project-crossed").first() or _project(
        "Project Crossed"
    )
    for i in range(start, start + n):
        _crossing(project, START + timedelta(hours=i), f"valuation {marker(i)}")
    return [marker(i) for i in reversed(range(start, start + n))]  # newest first


def make_denials(start: int, n: int) -> list[str]:
    for i in range(start, start + n):
        do_record_denial(
            "walls.denied",
            actor="tim.hartmann",
            object_type="walls",
            object_id="watch list",
            reason=f"wall.forbidden: asked {marker(i)}",
        )
    return [marker(i) for i in reversed(range(start, start + n))]  # newest first


def make_documents(start: int, n: int) -> list[str]:
    for i in range(start, start + n):
        IssuerDocument.objects.create(
            issuer=Issuer.objects.get(key="hansebank"),
            area="research",
            kind="public",
            title=f"Hanse note {marker(i)}",
            body="…",
            author="tim.hartmann",
        )
    return [marker(i) for i in reversed(range(start, start + n))]  # newest first


def make_pad_orders(start: int, n: int) -> list[str]:
    """#17: Felix's personal orders, blocked with a marked message."""
    for i in range(start, start + n):
        PadOrder.objects.create(
            employee=_user("felix.hoffmann"),
            issuer=Issuer.objects.get(key="hansebank"),
            side="buy",
            quantity=1 + i,
            placed_at=START + timedelta(hours=i),
            status="blocked",
            code="pad.restricted",
            message=f"restricted {marker(i)}",
        )
    return [marker(i) for i in reversed(range(start, start + n))]  # newest first


@dataclass(frozen=True)
class Listing:
    who: str
    make: Callable[[int, int], list[str]]
    api: str  # below /api/v1
    column: str  # of the JSON rows and the CSV: where the marker is
    page: str | None = None
    csv: str | None = None


LISTINGS = {
    "issuers": Listing("niklas.wolf", make_issuers, "/walls/issuers", "name"),
    "restricted list": Listing(
        "niklas.wolf",
        make_restricted,
        "/walls/restricted-list",
        "issuer_name",
        "/walls/restricted/",
        "/walls/restricted-list.csv",
    ),
    "watch list": Listing(
        "martin.jung", make_watch, "/walls/watch-list", "reason", None, "/walls/watch-list.csv"
    ),
    "projects": Listing("clara.vogel", make_projects, "/walls/projects", "name", "/walls/"),
    "insiders": Listing(
        "clara.vogel",
        make_insiders,
        "/walls/projects/project-insiders/insiders",
        "reason",
        "/walls/projects/project-insiders/",
        "/walls/projects/project-insiders/insiders.csv",
    ),
    "crossings": Listing(
        "clara.vogel",
        make_crossings,
        "/walls/crossings",
        "reason",
        "/walls/crossings/",
        "/walls/crossings.csv",
    ),
    "denials": Listing(
        "martin.jung",
        make_denials,
        "/walls/denials",
        "message",
        "/walls/denials/",
        "/walls/denials.csv",
    ),
    "documents": Listing("niklas.wolf", make_documents, "/walls/documents", "title"),
    "my personal orders": Listing(
        "felix.hoffmann", make_pad_orders, "/walls/pad/orders", "message", "/walls/pad/"
    ),
    "personal orders": Listing(
        "clara.vogel",
        make_pad_orders,
        "/walls/pad/all-orders",
        "message",
        "/walls/pad/orders/",
        "/walls/pad/all-orders.csv",
    ),
}
PAGED = [name for name, listing in LISTINGS.items() if listing.page]
WITH_CSV = [name for name, listing in LISTINGS.items() if listing.csv]


def marked(values: list[str]) -> list[str]:
    return [m for value in values for m in MARK.findall(value)]


def next_of(response: Any) -> str | None:
    """The path of the next page from the Link header, if there is one."""
    link = response.get("Link")
    if link is None:
        return None
    found = LINK_NEXT.fullmatch(link)
    assert found, link
    return found[1]


def cursor_of(response: Any) -> str:
    url = next_of(response)
    assert url is not None, response.content
    return url.split("after=")[1]


def walk_api(client: Client, url: str, column: str) -> tuple[list[str], list[int]]:
    """Follow the Link headers from ``url``: the column's values seen, and each page's
    length."""
    pages = api_pages(client, url)
    return [row[column] for page in pages for row in page], [len(page) for page in pages]


def walk_pages(client: Client, url: str) -> tuple[list[str], int]:
    """Follow the "Next page" links from ``url``: the markers seen, and how many pages."""
    pages = html_pages(client, url)
    return [mark for _, html in pages for mark in MARK.findall(html)], len(pages)


def query_count(client: Client, url: str) -> int:
    client.get(url)  # warm-up: caches of the policy and the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", list(LISTINGS))
def test_walking_an_api_list_by_its_link_header_yields_every_row_once_in_order(
    demo_bank: Any, name: str
) -> None:
    listing = LISTINGS[name]
    expected = listing.make(0, 7)
    client = as_user(listing.who)
    seen, sizes = walk_api(client, f"/api/v1{listing.api}?limit=3", listing.column)
    assert marked(seen) == expected
    if name == "issuers":  # the demo's six issuers are listed too, each once
        assert len(set(seen)) == len(seen) == 13 and "Nordbank AG" in seen
        assert sizes == [3, 3, 3, 3, 1]
    else:
        assert sizes == [3, 3, 1]  # the last page is short and says nothing of a next one


def test_a_full_last_page_announces_no_empty_page_after_it(demo_bank: Any) -> None:
    make_crossings(0, 6)
    clara = as_user("clara.vogel")
    seen, sizes = walk_api(clara, "/api/v1/walls/crossings?limit=3", "reason")
    assert sizes == [3, 3] and len(set(seen)) == 6
    _, pages = walk_pages(clara, "/walls/crossings/?limit=3")
    assert pages == 2


@pytest.mark.parametrize("name", PAGED)
def test_walking_a_page_by_its_next_link_yields_every_row_once_in_order(
    demo_bank: Any, name: str
) -> None:
    listing = LISTINGS[name]
    assert listing.page is not None
    expected = listing.make(0, 7)
    seen, pages = walk_pages(as_user(listing.who), f"{listing.page}?limit=3")
    assert seen == expected and pages == 3


def test_the_next_link_keeps_the_other_parameters_of_the_page(demo_bank: Any) -> None:
    make_denials(0, 4)
    html = as_user("clara.vogel").get("/walls/denials/?limit=3&lang=x").content.decode()
    found = NEXT_PAGE.search(html)
    assert found and "limit=3" in unescape(found[1]) and "lang=x" in unescape(found[1])


@pytest.mark.parametrize("name", list(LISTINGS))
def test_a_malformed_cursor_is_a_problem_naming_after(demo_bank: Any, name: str) -> None:
    listing = LISTINGS[name]
    listing.make(0, 2)
    for after in ("not-a-cursor", "W10", "%%%"):
        response = as_user(listing.who).get(f"/api/v1{listing.api}", {"after": after})
        assert 400 <= response.status_code < 500, response.content
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert "after" in body["detail"] + str(body["errors"]), body


@pytest.mark.parametrize("name", PAGED)
def test_a_page_with_a_malformed_cursor_shows_the_first_page(demo_bank: Any, name: str) -> None:
    listing = LISTINGS[name]
    expected = listing.make(0, 4)
    response = as_user(listing.who).get(f"{listing.page}?limit=3&after=broken")
    assert response.status_code == 200
    assert MARK.findall(response.content.decode()) == expected[:3]


@pytest.mark.parametrize("name", WITH_CSV)
def test_the_csv_download_has_every_row_however_many_pages(demo_bank: Any, name: str) -> None:
    listing = LISTINGS[name]
    expected = listing.make(0, 60)  # more than a default page (50)
    response = as_user(listing.who).get(f"/api/v1{listing.csv}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "Link" not in response
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode(), newline="")))
    assert marked([row[listing.column] for row in rows]) == expected


@pytest.mark.parametrize("name", list(LISTINGS))
def test_the_queries_of_a_page_do_not_grow_with_its_rows(demo_bank: Any, name: str) -> None:
    listing = LISTINGS[name]
    client = as_user(listing.who)
    urls = [f"/api/v1{listing.api}"] + ([listing.page] if listing.page else [])
    listing.make(0, 3)
    few = [query_count(client, url) for url in urls]
    listing.make(3, 27)
    many = [query_count(client, url) for url in urls]
    assert few == many


# -- a cursor is a position, not a permission -----------------------------------------------------


def _confidential_document(title: str) -> IssuerDocument:
    return IssuerDocument.objects.create(
        issuer=Issuer.objects.get(key="nordbank"),
        area="private-side",
        kind="confidential",
        title=title,
        body="Capital ratio below plan.",
        author="jan.schmitt",
    )


def test_a_cursor_from_compliances_page_shows_an_outsider_nothing_behind_the_wall(
    demo_bank: Any,
) -> None:
    for i in range(6):  # public notes and the private side's secrets, interleaved
        make_documents(i, 1)
        _confidential_document(f"Falcon secret {i}")
    clara, niklas = Person("clara.vogel"), Person("niklas.wolf")
    cursors = []
    response = clara.get("/walls/documents?limit=2")
    while next_of(response):
        assert any("secret" in row["title"] for row in response.json())
        cursors.append(cursor_of(response))
        response = clara.client.get(next_of(response))
    assert len(cursors) == 5
    own = [row["title"] for row in niklas.get("/walls/documents").json()]
    assert len(own) == 6 and not any("secret" in t for t in own)
    for cursor in cursors:
        response = niklas.get(f"/walls/documents?after={cursor}")
        assert response.status_code == 200
        titles = [row["title"] for row in response.json()]
        assert not any("secret" in t or "falcon" in t.lower() for t in titles)
        assert titles == own[len(own) - len(titles) :]  # just his own list, further on
        assert "nordbank" not in response.content.decode().lower()


def test_a_cursor_from_compliances_reports_opens_no_report_to_anyone_else(
    demo_bank: Any,
) -> None:
    for make in (make_crossings, make_insiders, make_denials, make_watch, make_projects):
        make(0, 4)
    clara = as_user("clara.vogel")
    for api, page in (
        ("/api/v1/walls/crossings", "/walls/crossings/"),
        ("/api/v1/walls/projects/project-insiders/insiders", "/walls/projects/project-insiders/"),
        ("/api/v1/walls/denials", "/walls/denials/"),
        ("/api/v1/walls/projects", "/walls/"),
        ("/api/v1/walls/watch-list", "/walls/"),
    ):
        cursor = cursor_of(clara.get(f"{api}?limit=1"))
        for outsider in ("tim.hartmann", "jan.schmitt"):
            person = as_user(outsider)
            for url in (f"{api}?after={cursor}", f"{page}?after={cursor}"):
                refused = person.get(url)
                assert refused.status_code == 403, url
                said = refused.content.decode()
                assert "wall.forbidden" in said and not MARK.search(said)


def test_a_cursor_of_one_projects_insiders_shows_no_other_projects_insiders(
    demo_bank: Any,
) -> None:
    make_insiders(0, 4)
    other = _project("Project Other")
    ProjectMember.objects.create(
        project=other,
        user=_user("laura.lange"),
        since=START - timedelta(days=1),
        reason="the other team",
        added_by="clara.vogel",
    )
    clara = as_user("clara.vogel")
    cursor = cursor_of(clara.get("/api/v1/walls/projects/project-insiders/insiders?limit=1"))
    answer = clara.get(f"/api/v1/walls/projects/project-other/insiders?after={cursor}")
    assert answer.status_code == 200 and answer.json() == []  # its one insider came earlier
    assert not MARK.search(answer.content.decode())
