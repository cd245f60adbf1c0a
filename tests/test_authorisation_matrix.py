"""Who may reach what: every URL and every API operation, for each kind of person.

The table below is the specification. The test enumerates the routes Django and the
OpenAPI document actually have: a route without an entry fails, so a new endpoint cannot
ship without someone deciding who may use it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from backoffice.cases.services import do_start_case
from tests.cases.conftest import payment

# People of the demo bank standing for each kind of user.
PEOPLE = {
    "anonymous": None,
    "market": "anna.schmidt",  # maker of the fixture case
    "back_office": "maria.keller",  # may release it
    "board": "sabine.roth",
    "compliance": "clara.vogel",
    "auditor": "martin.jung",
    "administrator": "oliver.richter",
    "research": "tim.hartmann",  # nothing to do with payments
}
EVERYONE = set(PEOPLE) - {"anonymous"}
CASE_READERS = {"market", "back_office", "board", "compliance", "auditor"}
AUDIT_READERS = {"compliance", "auditor"}
REPORT_READERS = {"board", "compliance", "auditor"}  # reports.read
WALLS_READERS = {"compliance", "auditor"}  # watch list, insiders, crossings, refusals
ACCESS_READERS = {"compliance", "auditor", "administrator"}  # access.risk.read (#6)

#: method and path (with {case} for the fixture case) -> who is let through; the rest is denied.
#: "service" marks writes whose rules are the domain's (tests/cases, tests/audit): here only
#: "anonymous is refused" is asserted for them.
MATRIX: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/inbox/"): EVERYONE,
    ("GET", "/cases/"): EVERYONE,
    ("GET", "/cases/new/"): EVERYONE,
    ("GET", "/cases/new/payment-release/"): EVERYONE,
    ("GET", "/cases/{case}/"): CASE_READERS,
    ("POST", "/cases/{case}/act/"): "service",
    ("GET", "/cases/{case}/edit/"): set(),  # submitted: not even its maker may amend it now
    ("GET", "/delegations/"): EVERYONE,
    ("GET", "/settings/"): EVERYONE,
    ("GET", "/reports/"): EVERYONE,  # lists only the reports each person may read
    ("GET", "/lockouts/"): {"administrator"},  # #13 access.lockout.lift
    ("GET", "/password/"): EVERYONE,
    ("GET", "/password/done/"): EVERYONE,
    ("GET", "/organisation/"): EVERYONE,
    ("GET", "/audit/"): AUDIT_READERS,
    ("POST", "/audit/verify/"): "service",
    ("GET", "/login/"): set(PEOPLE),
    ("POST", "/logout/"): set(PEOPLE),
    ("GET", "/healthz"): set(PEOPLE),
    ("GET", "/admin/"): set(),  # no demo person is staff here; the admin is read-only anyway
    ("GET", "/api/v1/docs"): set(PEOPLE),
    ("GET", "/api/v1/openapi.json"): set(PEOPLE),
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/processes"): EVERYONE,
    ("GET", "/api/v1/cases"): EVERYONE,
    ("POST", "/api/v1/cases"): "service",
    ("GET", "/api/v1/cases/{case}"): CASE_READERS,
    ("PATCH", "/api/v1/cases/{case}"): "service",
    ("POST", "/api/v1/cases/{case}/actions"): "service",
    ("GET", "/api/v1/delegations"): EVERYONE,
    ("POST", "/api/v1/delegations"): "service",
    ("POST", "/api/v1/delegations/{delegation_id}/end"): "service",
    ("GET", "/api/v1/audit"): AUDIT_READERS,
    ("GET", "/api/v1/audit/verify"): AUDIT_READERS,
    # credit decisions (issue 5): the registers are reports; votes and decisions are rules
    ("GET", "/credit/register/"): REPORT_READERS,
    ("GET", "/credit/escalations/"): REPORT_READERS,
    ("GET", "/credit/risk-report/"): REPORT_READERS,
    ("GET", "/credit/reviews/"): REPORT_READERS,
    ("GET", "/api/v1/credit/register"): REPORT_READERS,
    ("GET", "/api/v1/credit/escalations"): REPORT_READERS,
    ("GET", "/api/v1/credit/risk-report"): REPORT_READERS,
    ("GET", "/api/v1/credit/reviews/overdue"): REPORT_READERS,
    ("GET", "/api/v1/credit/borrowers"): EVERYONE - {"administrator", "research"},  # need-to-know
    ("GET", "/api/v1/credit/cases/{case}"): "service",  # tests/credit: credit cases only
    ("POST", "/api/v1/credit/cases/{case}/votes"): "service",
    ("POST", "/api/v1/credit/cases/{case}/decision"): "service",
    ("POST", "/api/v1/credit/cases/{case}/close"): "service",
    ("POST", "/api/v1/credit/cases/{case}/control"): "service",
    ("GET", "/api/v1/credit/credits/{credit_id}"): "service",
    ("POST", "/api/v1/credit/credits/{credit_id}/status"): "service",
    ("POST", "/api/v1/credit/credits/{credit_id}/case-lead"): "service",
    ("POST", "/api/v1/credit/credits/{credit_id}/review"): "service",
    ("POST", "/api/v1/credit/credits/{credit_id}/provisions"): "service",
    ("POST", "/api/v1/credit/provisions/{provision_id}/approve"): "service",
    # Chinese walls (issue 8): the restricted list is firm-wide, everything else compliance's
    ("GET", "/walls/"): WALLS_READERS,
    ("GET", "/walls/restricted/"): EVERYONE,
    ("GET", "/walls/projects/payment-release/"): WALLS_READERS,  # unknown project: 422 for them
    ("GET", "/walls/crossings/"): WALLS_READERS,
    ("GET", "/walls/denials/"): WALLS_READERS,
    ("GET", "/api/v1/walls/issuers"): EVERYONE,
    ("GET", "/api/v1/walls/restricted-list"): EVERYONE,
    ("GET", "/api/v1/walls/restricted-list.csv"): EVERYONE,
    ("POST", "/api/v1/walls/restricted-list"): "service",
    ("GET", "/api/v1/walls/watch-list"): WALLS_READERS,
    ("GET", "/api/v1/walls/watch-list.csv"): WALLS_READERS,
    ("POST", "/api/v1/walls/watch-list"): "service",
    ("POST", "/api/v1/walls/list-entries/{entry_id}/remove"): "service",
    ("GET", "/api/v1/walls/projects"): WALLS_READERS,
    ("GET", "/api/v1/walls/projects/{key}/insiders"): WALLS_READERS,
    ("GET", "/api/v1/walls/projects/{key}/insiders.csv"): WALLS_READERS,
    ("POST", "/api/v1/walls/projects/{key}/members"): "service",
    ("POST", "/api/v1/walls/projects/{key}/announce"): "service",
    ("POST", "/api/v1/walls/projects/{key}/close"): "service",
    ("GET", "/api/v1/walls/crossings"): WALLS_READERS,
    ("GET", "/api/v1/walls/crossings.csv"): WALLS_READERS,
    ("POST", "/api/v1/walls/crossings/{crossing_id}/end"): "service",
    ("GET", "/api/v1/walls/denials"): WALLS_READERS,
    ("GET", "/api/v1/walls/denials.csv"): WALLS_READERS,
    ("POST", "/api/v1/walls/histories/{person}/reset"): "service",
    ("GET", "/api/v1/walls/documents"): EVERYONE,
    ("POST", "/api/v1/walls/documents"): "service",
    ("GET", "/api/v1/walls/documents/{document_id}"): "service",  # tests/walls: read guard
    # Access governance (issue 6): risks and mitigations are for control and administration
    ("GET", "/access/mitigations/"): ACCESS_READERS,
    ("GET", "/access/simulate/"): ACCESS_READERS,
    ("GET", "/api/v1/access/mitigations"): ACCESS_READERS,
    ("POST", "/api/v1/access/simulate"): "service",  # tests/access: refused without the right
}

#: Routes that are not endpoints of ours (Django admin internals, static helpers).
NOT_OURS = re.compile(r"^/admin/.+|^/api/v1/docs/.+|^/api/v1/openapi\.json.+")


def _django_routes(patterns: list[Any], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found |= _django_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).lstrip("^").rstrip("$")
            found.add(path.replace("{pk}", "{case}").replace("{key}", "payment-release"))
    return found


def test_every_route_has_an_entry() -> None:
    """Django's URLs and the OpenAPI operations, each decided in MATRIX."""
    from backoffice.api import api

    declared = {path for _, path in MATRIX}
    pages = {p for p in _django_routes(get_resolver().url_patterns) if not p.startswith("/api/v1/")}
    missing_pages = {p for p in pages - declared if not NOT_OURS.match(p)}
    schema = api.get_openapi_schema()
    operations = {
        (method.upper(), path.replace("{case_id}", "{case}"))
        for path, item in schema["paths"].items()
        for method in item
    }
    missing_operations = operations - set(MATRIX)
    assert missing_pages == set() and missing_operations == set()


@pytest.fixture
def fixture_case(demo_bank: Any) -> int:
    anna = get_user_model().objects.get(username="anna.schmidt")
    case = do_start_case("payment-release", payment(), anna, submit=True).raise_if_denied()
    return int(case.pk)


def _client(kind: str) -> Client:
    client = Client()
    if PEOPLE[kind]:
        client.force_login(get_user_model().objects.get(username=PEOPLE[kind]))
    return client


def _let_through(response: Any) -> bool:
    if response.status_code in (401, 403, 404, 409):
        return False
    location = response.get("Location", "")
    return not (response.status_code == 302 and location.startswith(("/login/", "/admin/login/")))


@pytest.mark.parametrize("kind", sorted(PEOPLE))
def test_matrix(fixture_case: int, kind: str) -> None:
    client = _client(kind)
    wrong = []
    for (method, path), allowed in MATRIX.items():
        url = re.sub(r"\{\w+_id\}", "999999", path.replace("{case}", str(fixture_case)))
        url = url.replace("{key}", "no-such-project").replace("{person}", "anna.schmidt")
        if allowed == "service":
            if kind != "anonymous":
                continue  # the domain tests decide these writes
            response = client.generic(method, url, data="{}", content_type="application/json")
            if _let_through(response):
                wrong.append(f"{method} {path}: anonymous got {response.status_code}")
            continue
        if method != "GET" and path not in ("/logout/",):
            continue
        response = client.get(url) if method == "GET" else client.post(url)
        expected = kind in allowed
        if _let_through(response) != expected:
            wrong.append(
                f"{method} {path}: {kind} got {response.status_code}, "
                f"expected {'access' if expected else 'denial'}"
            )
        if method == "POST" and path == "/logout/":
            client = _client(kind)  # logged out: log in again for the rest
    assert wrong == []
