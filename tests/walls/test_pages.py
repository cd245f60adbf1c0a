"""Compliance's walls pages in the browser's terms (Django's test client), in two languages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from backoffice.cases.models import Case
from backoffice.walls.models import ListEntry, WallCrossing
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
