"""#18: joiners, movers and leavers through SCIM 2.0, as an HR system or IdP sends them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.scim.services import ENTERPRISE, USER_SCHEMA
from tests.cases.conftest import payment

pytestmark = pytest.mark.django_db

TOKEN = "scim-test-token-0123456789"  # noqa: S105 - the test's own


@pytest.fixture
def scim(settings: Any, demo_bank: Any) -> Client:
    settings.SCIM_TOKEN = TOKEN
    return Client(headers={"Authorization": f"Bearer {TOKEN}"})


def _send(client: Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.generic(
        method,
        f"/scim/v2{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/scim+json",
    )


def _user(login: str, department: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": login,
        "name": {"formatted": login.replace(".", " ").title()},
        "emails": [{"value": f"{login}@musterbank.example", "primary": True}],
        "active": True,
    }
    if department:
        body[ENTERPRISE] = {"department": department}
    return body | extra


def _id_of(login: str) -> int:
    return int(get_user_model().objects.get(username=login).pk)


def _memberships(login: str) -> list[tuple[str, str, Any]]:
    from backoffice.org.models import Membership

    rows = Membership.objects.filter(user__username=login).order_by("valid_from", "unit__key")
    return [(m.unit.key, m.role, m.valid_to) for m in rows]


def test_no_token_configured_means_no_endpoint(demo_bank: Any) -> None:
    assert Client().get("/scim/v2/Users").status_code == 404


def test_a_wrong_token_is_refused_and_recorded(scim: Client) -> None:
    wrong = Client(headers={"Authorization": "Bearer guess"})
    answer = wrong.get("/scim/v2/Users")
    assert answer.status_code == 401 and answer.json()["status"] == "401"
    assert AuditEvent.objects.filter(action="scim.refused").count() == 1


def test_a_joiner_becomes_a_person_with_a_membership_and_nothing_else(scim: Client) -> None:
    answer = _send(scim, "POST", "/Users", _user("ida.neu", "retail"))
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["userName"] == "ida.neu" and body[ENTERPRISE] == {"department": "retail"}
    ida = get_user_model().objects.get(username="ida.neu")
    assert ida.is_active and not ida.has_usable_password() and ida.profile.source == "scim"
    assert _memberships("ida.neu") == [("retail", "member", None)]
    from backoffice.access.models import RoleAssignment

    assert not RoleAssignment.objects.filter(user=ida).exists()
    assert _send(scim, "POST", "/Users", _user("ida.neu")).status_code == 409
    found = scim.get("/scim/v2/Users", {"filter": 'userName eq "ida.neu"'}).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == str(ida.pk)


def test_a_mover_ends_the_old_membership_and_starts_the_new_one(scim: Client) -> None:
    """Lukas moves from the market into credit analysis: his corporate-clients membership
    ends today and stays in the history, which the cooling-off (COOL-1) reads."""
    today = timezone.localdate()
    pk = _id_of("lukas.becker")
    answer = _send(
        scim,
        "PATCH",
        f"/Users/{pk}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "credit-analysis"}
            ],
        },
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()[ENTERPRISE] == {"department": "credit-analysis"}
    assert _memberships("lukas.becker") == [
        ("corporate-clients", "member", today),
        ("credit-analysis", "member", None),
    ]
    moved = AuditEvent.objects.get(action="scim.person.moved")
    assert moved.before == {"department": "corporate-clients"}


def test_a_move_that_breaks_separation_is_refused_and_writes_nothing(scim: Client) -> None:
    """Anna heads Corporate Clients (market); a member of Loan Processing (back office)
    too would break ORG-2 (nobody a member in both market and back office)."""
    before = _memberships("anna.schmidt")
    body = _user("anna.schmidt", "loan-processing")
    answer = _send(scim, "PUT", f"/Users/{_id_of('anna.schmidt')}", body)
    assert answer.status_code == 409, answer.content
    error = answer.json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert error["status"] == "409" and "ORG-2" in error["detail"]
    assert _memberships("anna.schmidt") == before
    assert not AuditEvent.objects.filter(action="scim.person.moved").exists()


def test_a_leaver_is_locked_at_once_with_tokens_and_delegations_ended(scim: Client) -> None:
    from backoffice.accounts.services import do_create_own_token, get_user_by_token
    from backoffice.cases.models import Delegation

    users = get_user_model().objects
    paul, lena = users.get(username="paul.meyer"), users.get(username="lena.schulz")
    token = do_create_own_token(paul, name="export")
    today = timezone.localdate()
    given = Delegation.objects.create(
        principal=paul,
        substitute=lena,
        valid_from=today,
        valid_to=today + timedelta(days=7),
        created_by="paul.meyer",
    )
    received = Delegation.objects.create(
        principal=lena,
        substitute=paul,
        valid_from=today,
        valid_to=today + timedelta(days=7),
        created_by="lena.schulz",
    )
    session = Client()
    session.force_login(paul)
    assert session.get("/api/v1/me").status_code == 200

    answer = _send(
        scim,
        "PATCH",
        f"/Users/{paul.pk}",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": False}}],
        },
    )
    assert answer.status_code == 200 and answer.json()["active"] is False
    assert get_user_by_token(token) is None
    assert session.get("/api/v1/me").status_code == 401  # his session died with the login
    for row in (given, received):
        row.refresh_from_db()
        assert row.ended_at is not None
    assert _memberships("paul.meyer") == [("loan-processing", "member", today)]
    assert AuditEvent.objects.filter(action="scim.person.left", object_id="paul.meyer").exists()


def test_a_group_mapped_to_a_role_starts_a_grant_case_never_a_grant(scim: Client) -> None:
    from backoffice.access.models import RoleAssignment
    from backoffice.cases.models import Case

    maria = _id_of("maria.keller")
    answer = _send(
        scim,
        "POST",
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "risk-controllers",
            "members": [{"value": str(maria)}],
        },
    )
    assert answer.status_code == 201, answer.content
    cases = Case.objects.filter(process__key="role-grant", payload__beneficiary="maria.keller")
    assert [(c.payload["role"], c.status) for c in cases] == [("risk-controller", "submitted")]
    assert not RoleAssignment.objects.filter(
        user__username="maria.keller", role__key="risk-controller"
    ).exists()
    group = answer.json()["id"]
    again = _send(
        scim,
        "PUT",
        f"/Groups/{group}",
        {
            "displayName": "risk-controllers",
            "members": [{"value": str(maria)}],
        },
    )
    assert again.status_code == 200 and cases.count() == 1


def test_bad_input_names_the_field(scim: Client) -> None:
    answer = _send(scim, "POST", "/Users", _user("Ida Neu!"))
    assert answer.status_code == 400 and "userName" in answer.json()["detail"]
    answer = _send(scim, "POST", "/Users", _user("ida.neu", "no-such-unit"))
    assert answer.status_code == 400 and "department" in answer.json()["detail"]
    assert not get_user_model().objects.filter(username="ida.neu").exists()


def test_a_page_of_users_costs_the_same_statements_for_5_rows_as_for_25(scim: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(rows: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            answer = scim.get("/scim/v2/Users", {"count": rows})
        assert answer.status_code == 200 and answer.json()["itemsPerPage"] == rows
        return len(captured)

    assert count(5) == count(25) <= 8


def test_a_leavers_open_work_waits_for_the_other_eligible_people(scim: Client) -> None:
    """Maria could release Anna's payment; she leaves. The case is still in the inbox of
    Sophie, who may release too, and Maria's session can no longer act on it."""
    from backoffice.base.actor import Actor
    from backoffice.cases.queries import inbox_cases
    from backoffice.cases.services import do_start_case

    users = get_user_model().objects
    anna, maria = users.get(username="anna.schmidt"), users.get(username="maria.keller")
    case = do_start_case(Actor(anna), "payment-release", payment(), submit=True)
    case_id = case.raise_if_denied().pk
    assert inbox_cases(Actor(maria)).filter(pk=case_id).exists()
    session = Client()
    session.force_login(maria)

    assert _send(scim, "DELETE", f"/Users/{maria.pk}").status_code == 204
    assert scim.get(f"/scim/v2/Users/{maria.pk}").status_code == 404
    sophie = users.get(username="sophie.krueger")
    assert inbox_cases(Actor(sophie)).filter(pk=case_id).exists()
    release = session.post(
        f"/api/v1/cases/{case_id}/actions",
        json.dumps({"action": "release"}),
        content_type="application/json",
    )
    assert release.status_code == 401
