"""#13 item 2: a grant is judged against every assignment and mitigation valid on any day
of its validity — not only on the day it starts."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backoffice.access.models import RoleAssignment
from backoffice.sod_cli import sod_analyze
from tests.access.test_grants import grant, holds, mitigation
from tests.cases.conftest import Person, problem

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
IN_30_DAYS = TODAY + timedelta(days=30)


@pytest.fixture
def person(demo_bank: Any) -> type[Person]:
    return Person


def released(person: Any, payload: dict[str, Any]) -> None:
    case = person("maria.keller").start("role-grant", payload)
    assert case.status_code == 201, case.content
    done = person("anna.schmidt").act(case.json()["id"], "release")
    assert done.json()["status"] == "released", done.content


def critical_risks(as_of: Any, tmp_path: Any) -> list[str]:
    """``sod analyze --live --as-of``: the critical violations on that day."""
    out = tmp_path / f"violations-{as_of}.csv"
    argv = ["--live", "--as-of", as_of.isoformat(), "--out", str(out)]
    assert sod_analyze(argv, io.StringIO()) == 0
    return [line for line in out.read_text().splitlines() if ",critical," in line]


def test_a_trader_grant_today_sees_a_settlement_grant_released_for_next_month(
    person: Any, tmp_path: Any
) -> None:
    """The attack of #13: both grants were judged "no risk" alone, on their first day."""
    released(person, grant("mia.frank", "settlement-clerk", valid_from=IN_30_DAYS.isoformat()))
    refused = problem(
        person("maria.keller").start("role-grant", grant("mia.frank", "trader")),
        403,
        "access.ssd",
    )
    assert f"From {IN_30_DAYS.isoformat()}, when role settlement-clerk starts" in refused["detail"]
    assert not holds("mia.frank", "trader")
    # the live bulk analysis agrees: no critical risk was created through grants
    assert not any(
        "mia.frank" in line for line in critical_risks(IN_30_DAYS + timedelta(days=1), tmp_path)
    )


def test_a_settlement_grant_for_next_month_sees_the_trader_grant_of_today(person: Any) -> None:
    released(person, grant("mia.frank", "trader"))
    problem(
        person("maria.keller").start(
            "role-grant", grant("mia.frank", "settlement-clerk", valid_from=IN_30_DAYS.isoformat())
        ),
        403,
        "access.ssd",
    )
    assert not holds("mia.frank", "settlement-clerk")


def test_a_grant_that_ends_before_the_other_starts_is_fine(person: Any) -> None:
    released(person, grant("mia.frank", "settlement-clerk", valid_from=IN_30_DAYS.isoformat()))
    released(person, grant("mia.frank", "trader", valid_to=IN_30_DAYS.isoformat()))
    assert RoleAssignment.objects.filter(user__username="mia.frank").count() == 3


def test_the_release_judges_again_over_the_whole_period(person: Any) -> None:
    """Requested first, the trader grant waits; the settlement grant for next month is
    released meanwhile: the trader grant's release is now refused."""
    waiting = person("maria.keller").start("role-grant", grant("mia.frank", "trader")).json()
    assert waiting["payload"]["risk"] == "none"
    released(person, grant("mia.frank", "settlement-clerk", valid_from=IN_30_DAYS.isoformat()))
    problem(person("anna.schmidt").act(waiting["id"], "release"), 403, "access.ssd")
    assert not holds("mia.frank", "trader")


def test_a_mitigation_that_expires_does_not_make_an_open_ended_grant_risk_free(
    person: Any, login: Any
) -> None:
    """felix.hoffmann enters payments; a mitigation for 10 days covers releasing them for
    10 days only: from the 11th day the risk is open, so compliance must approve."""
    created = person("anna.schmidt").start("mitigation", mitigation("felix.hoffmann", days=10))
    person("clara.vogel").act(created.json()["id"], "release")
    case = person("maria.keller").start("role-grant", grant("felix.hoffmann", "payment-releaser"))
    assert case.json()["payload"]["risk"] == "high"
    first = person("anna.schmidt").act(case.json()["id"], "release")
    assert first.json()["step"] == "second_level", first.content
    assert not holds("felix.hoffmann", "payment-releaser")
    # the case page says from when (the auditor reads it in English)
    page = login("martin.jung").get(f"/cases/{case.json()['id']}/").content.decode()
    expires = (TODAY + timedelta(days=11)).isoformat()
    assert f'data-from="{expires}"' in page
    assert "the mitigation of payment-entry-release ends" in page
    # within the mitigation, the same grant needs no second level (a draft: the first grant
    # is still pending, and one person and role have one request open at a time, #19)
    short = person("maria.keller").start(
        "role-grant",
        grant(
            "felix.hoffmann",
            "payment-releaser",
            valid_to=(TODAY + timedelta(days=11)).isoformat(),
            justification="Cover for ten days.",
        ),
        submit=False,
    )
    assert short.json()["payload"]["risk"] == "none"


def test_the_what_if_judges_from_its_day_on(person: Any) -> None:
    released(person, grant("mia.frank", "settlement-clerk", valid_from=IN_30_DAYS.isoformat()))
    clara = person("clara.vogel")
    answer = clara.post("/access/simulate", {"person": "mia.frank", "add_roles": ["trader"]})
    body = answer.json()
    assert body["verdict"] == "access.ssd", body
    assert body["from_day"] == IN_30_DAYS.isoformat()
    assert body["because"] == [
        {"kind": "role", "value": "settlement-clerk", "starts": True, "whose": ""}
    ]
    assert "settlement-clerk" in body["roles_before"]
    until = clara.post(
        "/access/simulate",
        {"person": "mia.frank", "add_roles": ["trader"], "until": IN_30_DAYS.isoformat()},
    )
    assert until.json()["verdict"] == "clear"
