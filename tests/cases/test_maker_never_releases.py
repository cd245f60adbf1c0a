"""The maker can never release their own work — by any path we know of."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone

from backoffice.base.actor import Actor
from backoffice.cases.models import Case, CaseEvent, Delegation
from tests.cases.conftest import Person, payment, problem

TODAY = timezone.localdate()


@pytest.fixture
def lenas_case(person: Callable[[str], Person]) -> dict[str, Any]:
    """Lena may both enter and release payments; here she is the maker."""
    response = person("lena.schulz").start("payment-release", payment("800.00"))
    assert response.status_code == 201
    return dict(response.json())


def test_not_through_the_api(person: Callable[[str], Person], lenas_case: dict[str, Any]) -> None:
    problem(person("lena.schulz").act(lenas_case["id"], "release"), 403, "sod.self_approval")


def test_not_through_a_bearer_token(
    person: Callable[[str], Person], lenas_case: dict[str, Any], client: Any
) -> None:
    from backoffice.accounts.services import do_create_token

    token = do_create_token(
        get_user_model().objects.get(username="lena.schulz"), name="t", actor="t"
    )
    response = client.post(
        f"/api/v1/cases/{lenas_case['id']}/actions",
        {"action": "release"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    problem(response, 403, "sod.self_approval")


def test_not_through_the_admin(lenas_case: dict[str, Any], client: Any) -> None:
    """#13: the admin is off by default; and the superuser flag, forced into the database
    (saving it is refused), grants nothing in it."""
    url = f"/admin/cases/case/{lenas_case['id']}/change/"
    get_user_model().objects.filter(username="lena.schulz").update(is_staff=True, is_superuser=True)
    client.force_login(get_user_model().objects.get(username="lena.schulz"))
    assert client.get(url).status_code == 404
    assert client.post(url, {"status": "released"}).status_code == 404
    assert Case.objects.get(pk=lenas_case["id"]).status == "submitted"


@pytest.mark.usefixtures("admin_on")
def test_not_through_the_admin_when_an_operator_turns_it_on(
    lenas_case: dict[str, Any], client: Any
) -> None:
    get_user_model().objects.filter(username="lena.schulz").update(is_staff=True, is_superuser=True)
    client.force_login(get_user_model().objects.get(username="lena.schulz"))
    url = f"/admin/cases/case/{lenas_case['id']}/change/"
    assert client.get(url).status_code in (302, 403)  # no admin.read: not let in at all
    assert client.post(url, {"status": "released"}).status_code in (302, 403)
    assert client.get("/admin/cases/caseevent/add/").status_code in (302, 403)
    assert Case.objects.get(pk=lenas_case["id"]).status == "submitted"


def test_not_by_delegating_to_herself(person: Callable[[str], Person]) -> None:
    lena = person("lena.schulz")
    response = lena.post(
        "/delegations",
        {
            "substitute": "lena.schulz",
            "valid_from": str(TODAY),
            "valid_to": str(TODAY + timedelta(days=3)),
        },
    )
    problem(response, 422, "delegation.invalid")


def test_not_as_a_colleagues_substitute(
    person: Callable[[str], Person], lenas_case: dict[str, Any]
) -> None:
    maria = person("maria.keller")
    maria.post(
        "/delegations",
        {
            "substitute": "lena.schulz",
            "valid_from": str(TODAY),
            "valid_to": str(TODAY + timedelta(days=3)),
        },
    )
    response = person("lena.schulz").act(lenas_case["id"], "release", on_behalf_of="maria.keller")
    problem(response, 403, "sod.self_approval")


def test_not_through_a_delegation_chain_back_to_herself(
    person: Callable[[str], Person], lenas_case: dict[str, Any]
) -> None:
    # Lena -> Maria: Maria may act for Lena; acting for Lena on Lena's case is the maker acting
    lena, maria = person("lena.schulz"), person("maria.keller")
    lena.post(
        "/delegations",
        {
            "substitute": "maria.keller",
            "valid_from": str(TODAY),
            "valid_to": str(TODAY + timedelta(days=3)),
        },
    )
    problem(
        maria.act(lenas_case["id"], "release", on_behalf_of="lena.schulz"), 403, "sod.self_approval"
    )
    # ... and Maria -> Lena would close the loop: refused when it is created
    response = maria.post(
        "/delegations",
        {
            "substitute": "lena.schulz",
            "valid_from": str(TODAY),
            "valid_to": str(TODAY + timedelta(days=3)),
        },
    )
    problem(response, 403, "delegation.loop")
    assert Delegation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_not_even_by_writing_to_the_database_directly(demo_bank: Any) -> None:
    from backoffice.cases.services import do_start_case

    lena = get_user_model().objects.get(username="lena.schulz")
    case = do_start_case(Actor(lena), "payment-release", payment("800.00"), submit=True)
    case = case.raise_if_denied()
    with pytest.raises(DatabaseError, match="four eyes"), transaction.atomic():
        CaseEvent.objects.create(
            case=case,
            seq=99,
            at=timezone.now(),
            kind="approved",
            actor="lena.schulz",
            step="release",
        )
    assert not CaseEvent.objects.filter(case=case, kind="approved").exists()


@pytest.mark.usefixtures("admin_on")
def test_the_admin_shows_no_cases_even_to_those_it_lets_in(
    person: Callable[[str], Person], lenas_case: dict[str, Any], client: Any
) -> None:
    """#13: cases may be walled and are personal: the admin registers none of them."""
    get_user_model().objects.filter(username="oliver.richter").update(is_staff=True)
    client.force_login(get_user_model().objects.get(username="oliver.richter"))
    assert client.get("/admin/").status_code == 200  # admin.read and staff: let in
    assert client.get(f"/admin/cases/case/{lenas_case['id']}/change/").status_code == 404
    assert client.get("/admin/cases/case/").status_code == 404
    assert "/admin/cases/case/" not in client.get("/admin/").content.decode()
