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

from backoffice.base.actor import Actor
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
    # #13: the same person with is_superuser and is_staff forced into the database: the
    # flags grant nothing, so every route treats them as the research analyst they are
    "superuser": "tim.hartmann",
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
    ("POST", "/settings/tokens/"): "service",  # one's own token (tests/accounts)
    ("POST", "/settings/tokens/{token_id}/revoke/"): "service",
    # #15 DSD: one's own session roles (tests/access/test_dsd.py)
    ("POST", "/settings/roles/{role}/activate/"): "service",
    ("POST", "/settings/roles/{role}/deactivate/"): "service",
    ("GET", "/password/set/{uidb64}/{token}/"): set(PEOPLE),  # a mailed link: its token decides
    ("GET", "/password/set/done/"): set(PEOPLE),
    ("GET", "/reports/"): EVERYONE,  # lists only the reports each person may read
    ("GET", "/search/"): EVERYONE,  # #19: finds only what each person may see (tests/web)
    ("GET", "/lockouts/"): {"administrator"},  # #13 access.lockout.lift
    ("GET", "/password/"): EVERYONE,
    ("GET", "/password/done/"): EVERYONE,
    ("GET", "/organisation/"): EVERYONE,
    ("GET", "/organisation/people/"): EVERYONE,  # #19 the person picker (tests/web/test_lists)
    ("GET", "/audit/"): AUDIT_READERS,
    ("POST", "/audit/verify/"): "service",
    ("GET", "/audit/export/"): AUDIT_READERS,
    ("GET", "/login/"): set(PEOPLE),
    # #18 single sign-on: off unless BACKOFFICE_OIDC_* are set (404); tests/identity
    ("GET", "/oidc/authenticate/"): set(),
    ("GET", "/oidc/callback/"): set(),
    # #18 TOTP: the login step only with a password-checked login waiting (else: /login/)
    ("GET", "/login/totp/"): set(),
    ("GET", "/settings/totp/"): EVERYONE,  # one's own authenticator
    # #18 SCIM: a bearer token only (BACKOFFICE_SCIM_TOKEN), never a person's session;
    # unset, the endpoint is 404 for everyone (tests/scim)
    ("GET", "/scim/v2/"): set(),
    ("GET", "/scim/v2/{rest}"): set(),
    ("GET", "/scim/v2/ServiceProviderConfig"): set(),
    ("GET", "/scim/v2/Schemas"): set(),
    ("GET", "/scim/v2/Schemas/{schema_id}"): set(),
    ("GET", "/scim/v2/ResourceTypes"): set(),
    ("GET", "/scim/v2/ResourceTypes/{type_id}"): set(),
    ("GET", "/scim/v2/Users"): set(),
    ("GET", "/scim/v2/Users/{scim_id}"): set(),
    ("GET", "/scim/v2/Groups"): set(),
    ("GET", "/scim/v2/Groups/{scim_id}"): set(),
    ("POST", "/scim/v2/.search"): "service",
    ("POST", "/scim/v2/Users/.search"): "service",
    ("POST", "/scim/v2/Groups/.search"): "service",
    ("POST", "/logout/"): set(PEOPLE),
    ("GET", "/healthz"): set(PEOPLE),
    ("GET", "/admin/"): set(),  # #13: off by default (404); when on, see ADMIN_MATRIX
    ("GET", "/api/v1/docs"): set(PEOPLE),
    ("GET", "/api/v1/openapi.json"): set(PEOPLE),
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/api/v1/search"): EVERYONE,  # #19: what each may see (tests/web/test_search.py)
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
    # need-to-know: not the administrator, not research (is_superuser changes nothing)
    ("GET", "/api/v1/credit/borrowers"): EVERYONE - {"administrator", "research", "superuser"},
    # #19: the borrower register's pages, for the same people as the API's list
    ("GET", "/credit/borrowers/"): EVERYONE - {"administrator", "research", "superuser"},
    ("GET", "/credit/borrowers/payment-release/"): "service",  # no such borrower: 404 for all
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
    ("GET", "/walls/pad/"): EVERYONE,  # #17: one's own personal orders
    ("GET", "/walls/research/"): {"research", "superuser"},  # research drafts, fact checks
    ("GET", "/walls/pad/orders/"): WALLS_READERS,
    ("GET", "/walls/pad/attestations/"): WALLS_READERS,
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
    # #17 research, personal account dealing, insider lists (tests/walls/test_research.py,
    # test_pad.py, test_insider_list.py decide the writes)
    ("POST", "/api/v1/walls/research/{case}/fact-check"): "service",
    ("GET", "/api/v1/walls/research/{case}/fact-checks"): set(),  # not a research case: 404
    ("POST", "/api/v1/walls/pad/orders"): "service",
    ("GET", "/api/v1/walls/pad/orders"): EVERYONE,  # one's own
    ("GET", "/api/v1/walls/pad/all-orders"): WALLS_READERS,
    ("GET", "/api/v1/walls/pad/all-orders.csv"): WALLS_READERS,
    ("POST", "/api/v1/walls/pad/orders/{order_id}/clearance"): "service",
    ("POST", "/api/v1/walls/pad/attestations"): "service",
    ("GET", "/api/v1/walls/pad/attestation-report"): WALLS_READERS,
    ("GET", "/api/v1/walls/pad/attestation-report.csv"): WALLS_READERS,
    ("GET", "/api/v1/walls/projects/{key}/insider-list.csv"): WALLS_READERS,
    ("GET", "/api/v1/walls/projects/{key}/insider-list.xlsx"): WALLS_READERS,
    ("POST", "/api/v1/walls/projects/{key}/members/{person}/remove"): "service",
    # Access governance (issue 6): risks and mitigations are for control and administration
    ("GET", "/access/mitigations/"): ACCESS_READERS,
    ("GET", "/access/simulate/"): ACCESS_READERS,
    ("GET", "/access/actual/"): ACCESS_READERS,
    ("GET", "/access/risks/"): ACCESS_READERS,  # #19 the dashboard's access risks by level
    ("GET", "/api/v1/access/mitigations"): ACCESS_READERS,
    # #15: the emergency page is everyone's (the list decides who takes a role there)
    ("GET", "/access/emergency/"): EVERYONE,
    ("POST", "/access/emergency/"): "service",
    ("GET", "/access/emergency/{session_id}/"): "service",  # 404 here; 403 in tests/access
    ("POST", "/access/emergency/{session_id}/"): "service",
    ("GET", "/api/v1/access/actual"): ACCESS_READERS,  # issue 15: actual conflicts
    ("POST", "/api/v1/access/simulate"): "service",  # tests/access: refused without the right
    # #15 emergency access: anyone may ask (the list decides, tests/access/test_emergency.py);
    # the sessions and their logs are for controllers and access-risk readers
    ("POST", "/api/v1/access/emergency"): "service",
    ("POST", "/api/v1/access/emergency/{session_id}/end"): "service",
    ("POST", "/api/v1/access/emergency/{session_id}/review"): "service",
    ("GET", "/api/v1/access/emergency"): ACCESS_READERS,
    ("GET", "/api/v1/access/emergency/{session_id}/log"): "service",  # 404 here; 403 in tests
    # #15 recertification: everyone sees the items they review; all of them and the
    # completion are for control and administration; starting and deciding are the
    # services' (tests/access/test_recert.py)
    ("GET", "/access/reviews/"): EVERYONE,
    ("GET", "/access/reviews/summary/"): ACCESS_READERS,
    ("POST", "/access/reviews/start/"): "service",
    ("POST", "/access/reviews/{item_id}/decide/"): "service",
    ("GET", "/api/v1/access/reviews"): ACCESS_READERS,
    ("GET", "/api/v1/access/reviews/summary"): ACCESS_READERS,
    ("POST", "/api/v1/access/reviews"): "service",
    ("POST", "/api/v1/access/reviews/{item_id}/decision"): "service",
    # #17 trading and settlement: trades and reports for the desks, settlement, control and
    # reports.read; booking, confirming, importing and closing are the services' rules
    # (tests/trading/test_api.py, with the refusal each role meets on the other side's step)
    ("GET", "/trading/"): REPORT_READERS,
    ("POST", "/trading/"): "service",
    ("GET", "/trading/trades/{trade_id}/"): "service",  # 404 here (no such trade)
    ("POST", "/trading/trades/{trade_id}/"): "service",
    ("GET", "/trading/reports/unconfirmed/"): REPORT_READERS,
    ("GET", "/trading/reports/off-market/"): REPORT_READERS,
    ("GET", "/trading/reports/corrections/"): REPORT_READERS,
    ("GET", "/trading/reports/late/"): REPORT_READERS,
    ("GET", "/api/v1/trading/trades"): REPORT_READERS,
    ("POST", "/api/v1/trading/trades"): "service",
    ("GET", "/api/v1/trading/trades/{trade_id}"): "service",
    ("POST", "/api/v1/trading/trades/{trade_id}/confirmation"): "service",
    ("POST", "/api/v1/trading/trades/{trade_id}/close-off-market"): "service",
    ("POST", "/api/v1/trading/confirmations"): "service",
    ("POST", "/api/v1/trading/reference-prices"): "service",
    ("GET", "/api/v1/trading/reports/unconfirmed"): REPORT_READERS,
    ("GET", "/api/v1/trading/reports/off-market"): REPORT_READERS,
    ("GET", "/api/v1/trading/reports/corrections"): REPORT_READERS,
    ("GET", "/api/v1/trading/reports/late"): REPORT_READERS,
    # #18: each person's own notification settings; the feed shows each reader what they
    # may see (tests/notify/test_feed.py); the sink's page exists only in the demo
    ("GET", "/settings/notifications/"): EVERYONE,
    ("POST", "/settings/notifications/"): "service",
    ("GET", "/demo/mail/"): set(),  # 404 without `demo --with-mail`
    ("GET", "/api/v1/events"): EVERYONE,
    # #19 jobs: one's own list; a job only for its starter while they may read what it reads,
    # not found for everyone else (tests/jobs)
    ("GET", "/jobs/"): EVERYONE,
    ("POST", "/jobs/start/"): "service",
    ("GET", "/jobs/{job_id}/"): set(),
    ("GET", "/jobs/{job_id}/download/"): set(),
    ("POST", "/api/v1/jobs"): "service",
    ("GET", "/api/v1/jobs/{job_id}"): set(),
    ("GET", "/api/v1/jobs/{job_id}/result"): set(),
}

# #16 master data and the retailer's work lists: for those who read reports (reports.read)
for _name in ("vendors", "customers", "items", "locations", "employees"):
    MATRIX[("GET", f"/masterdata/{_name}/")] = REPORT_READERS
    MATRIX[("GET", f"/api/v1/masterdata/{_name}")] = REPORT_READERS
for _name in (
    "open-purchase-orders",
    "invoices-waiting",
    "write-offs",
    "till-differences",
    "recent-vendor-payments",
):
    MATRIX[("GET", f"/masterdata/reports/{_name}/")] = REPORT_READERS
    MATRIX[("GET", f"/api/v1/masterdata/reports/{_name}")] = REPORT_READERS

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
    from backoffice.urls import api  # the root with every router mounted

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
    case = do_start_case(Actor(anna), "payment-release", payment(), submit=True)
    case = case.raise_if_denied()
    return int(case.pk)


def _client(kind: str) -> Client:
    client = Client()
    people = get_user_model().objects
    if kind == "superuser":  # forced past the refusal on save, as raw SQL would
        people.filter(username=ADMIN_PEOPLE[kind]).update(is_superuser=True, is_staff=True)
    elif kind == "admin_reader":  # admin.read from the administrator role, plus the staff flag
        people.filter(username=ADMIN_PEOPLE[kind]).update(is_staff=True)
    if ADMIN_PEOPLE[kind]:
        client.force_login(people.get(username=ADMIN_PEOPLE[kind]))
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
        url = url.replace("{uidb64}", "MQ").replace("{token}", "not-a-token")
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


# -- the admin, when an operator turns it on (#13) -------------------------------------------

ADMIN_PEOPLE = PEOPLE | {"admin_reader": "oliver.richter"}
READER = {"admin_reader"}

#: every route of the admin with BACKOFFICE_ADMIN=1 -> who is let through (GET). Only a
#: person with the ``admin.read`` permission of a role *and* the staff flag gets in, and
#: then only to read units and process definitions; nothing is ever added, changed, deleted.
ADMIN_MATRIX: dict[str, set[str]] = {
    "/admin/": READER,
    "/admin/login/": READER,  # others: our login page (anonymous) or 403 (logged in)
    "/admin/logout/": set(ADMIN_PEOPLE),  # harmless: 405 on GET, others sent to /admin/
    "/admin/password_change/": READER,  # redirects to our audited /password/
    "/admin/password_change/done/": READER,
    "/admin/autocomplete/": set(),  # no autocomplete fields anywhere: 403 for everyone
    "/admin/jsi18n/": READER,
    "/admin/r/{content_type_id}/{object_id}/": set(),  # no model has a page of its own: 404
    "/admin/{app_label}/": READER,
    "/admin/{url}": set(),
    "/admin/cases/process/": READER,
    "/admin/cases/process/add/": set(),
    "/admin/cases/process/{object_id}/history/": READER,
    "/admin/cases/process/{object_id}/delete/": set(),
    "/admin/cases/process/{object_id}/change/": READER,  # a read-only view
    "/admin/cases/process/{object_id}/": READER,  # redirects to the read-only view
    "/admin/org/unit/": READER,
    "/admin/org/unit/add/": set(),
    "/admin/org/unit/{object_id}/history/": READER,
    "/admin/org/unit/{object_id}/delete/": set(),
    "/admin/org/unit/{object_id}/change/": READER,
    "/admin/org/unit/{object_id}/": READER,
}


def _admin_routes() -> set[str]:
    routes = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and str(pattern.pattern) == "admin/":
            routes = _django_routes(pattern.url_patterns, "admin/")
    # regular expressions of the admin (an app's index, the catch-all) as {name}
    return {re.sub(r"\(\?P\{(\w+)\}[^)]*\)", r"{\1}", r).replace("^", "") for r in routes}


def test_the_admin_is_off_by_default(fixture_case: int) -> None:
    assert _admin_routes() == set()
    assert _client("administrator").get("/admin/").status_code == 404


def test_the_admin_registers_no_personal_or_walled_model() -> None:
    """#13: units and process definitions only; no users, groups, profiles, cases, case
    events, audit events or walls models, on our site or on Django's default one."""
    from django.contrib import admin

    from backoffice.readonly_admin import site

    assert {model._meta.label for model in site._registry} == {"org.Unit", "cases.Process"}
    assert not any(
        model._meta.app_label in ("auth", "org", "cases", "audit", "walls", "accounts")
        for model in admin.site._registry
    )


@pytest.mark.usefixtures("admin_on")
def test_every_admin_route_has_an_entry() -> None:
    assert _admin_routes() == set(ADMIN_MATRIX)


@pytest.mark.usefixtures("admin_on")
@pytest.mark.parametrize("kind", sorted(ADMIN_PEOPLE))
def test_admin_matrix(fixture_case: int, kind: str) -> None:
    from backoffice.cases.models import Process
    from backoffice.org.models import Unit

    client = _client(kind)
    ids = {"org/unit": Unit.objects.get(key="it").pk, "cases/process": Process.objects.first().pk}
    wrong = []
    for path, allowed in ADMIN_MATRIX.items():
        model = next((m for m in ids if f"/{m}/" in path), None)
        url = path.replace("{object_id}", str(ids[model]) if model else "999999")
        url = url.replace("{content_type_id}", "999999").replace("{app_label}", "org")
        url = url.replace("{url}", "nothing/here/")
        response = client.get(url)
        if _let_through(response) != (kind in allowed):
            wrong.append(f"GET {path}: {kind} got {response.status_code}")
    for model, pk in ids.items():  # read-only for everyone, the reader included
        for url in (f"/admin/{model}/add/", f"/admin/{model}/{pk}/change/"):
            if _let_through(client.post(url, {"name": "changed"})):
                wrong.append(f"POST {url}: {kind} was not refused")
    assert wrong == []
    assert Unit.objects.get(key="it").name == "IT"
