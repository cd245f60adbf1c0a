"""The maker can never release their own work — by any path we know of."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone

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
    lena = get_user_model().objects.get(username="lena.schulz")
    lena.is_staff = lena.is_superuser = True
    lena.save()
    client.force_login(lena)
    url = f"/admin/cases/case/{lenas_case['id']}/change/"
    page = client.get(url)
    assert page.status_code == 200 and b"Save" not in page.content  # read-only view
    posted = client.post(url, {"status": "released"})
    assert posted.status_code == 403
    assert client.get("/admin/cases/caseevent/add/").status_code == 403
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
    case = do_start_case("payment-release", payment("800.00"), lena, submit=True).raise_if_denied()
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


def test_the_admin_shows_staff_only_the_cases_they_may_see(
    person: Callable[[str], Person], lenas_case: dict[str, Any], client: Any
) -> None:
    tim = get_user_model().objects.get(username="tim.hartmann")  # research: no payments
    tim.is_staff = tim.is_superuser = True
    tim.save()
    client.force_login(tim)
    assert client.get(f"/admin/cases/case/{lenas_case['id']}/change/").status_code in (302, 404)
    listing = client.get("/admin/cases/case/").content.decode()
    assert f"/admin/cases/case/{lenas_case['id']}/change/" not in listing
