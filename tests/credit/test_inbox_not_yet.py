"""The inbox lists every case its badge counts: one that waits at a person's step but that
the rules refuse them for now (COOL-1 cooling-off) is listed with why, not left out, so
"N cases wait for me" and the rows below it agree. The API's ``actionable`` list stays what
the person may act on now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases.queries import get_inbox, inbox_count
from tests.credit.conftest import Voter
from tests.credit.test_votes import change_credit_policy
from tests.web.test_pages import as_user


def listed(actor: Actor) -> tuple[list[int], dict[int, Any]]:
    """Every row of the inbox page and the refusals, page after page."""
    rows: list[int] = []
    refused: dict[int, Any] = {}
    after = None
    while True:
        page = get_inbox(actor, after, limit=2, not_yet=True)
        rows += [case.pk for case in page.cases]
        refused |= page.not_yet
        if page.next_cursor is None:
            return rows, refused
        after = page.next_cursor


def test_a_case_refused_for_now_is_listed_with_why_and_the_badge_agrees(
    voter: Callable[[str], Voter], case: Callable[..., int]
) -> None:
    # Jonas served the Schmidt group in the market until 2026-10-01 (the demo's COOL-1)
    schmidt = case("300000.00", borrower="B000002")  # group exposure 900,000: risk-relevant
    jonas = Actor(get_user_model().objects.get(username="jonas.fischer"))
    rows, refused = listed(jonas)
    assert schmidt in rows
    assert refused[schmidt].code == "sod.cooling_off"
    assert inbox_count(jonas) == len(rows)
    assert schmidt not in [c.pk for c in get_inbox(jonas).cases]  # not actionable now

    html = as_user("jonas.fischer", language="en").get("/inbox/").content.decode()
    assert f'href="/cases/{schmidt}/"' in html
    assert "Not yet:" in html and "2026-10-01" in html
    german = as_user("jonas.fischer", language="de").get("/inbox/").content.decode()
    assert "Noch nicht:" in german and "Not yet:" not in german

    body = voter("jonas.fischer").get("/cases?actionable=true").json()
    assert schmidt not in [item["id"] for item in body["items"]]


def test_a_case_the_person_may_act_on_has_no_not_yet(
    voter: Callable[[str], Voter], case: Callable[..., int]
) -> None:
    change_credit_policy(risk_relevance={"threshold": {"amount": "250000", "currency": "EUR"}})
    korn = case("300000.00", borrower="B000001")  # risk-relevant; Jonas never handled it
    jonas = Actor(get_user_model().objects.get(username="jonas.fischer"))
    rows, refused = listed(jonas)
    assert korn in rows and korn not in refused
    html = as_user("jonas.fischer", language="en").get("/inbox/").content.decode()
    assert "Not yet:" not in html


def test_business_that_needs_no_back_office_vote_is_not_in_its_inbox(
    voter: Callable[[str], Voter], case: Callable[..., int]
) -> None:
    """Below the risk-relevance threshold the market vote decides alone (CR-1, CR-2): the
    back office's badge does not count it (it once did, and the list left it out)."""
    korn = case("300000.00", borrower="B000001")  # group exposure below 750,000
    jonas = Actor(get_user_model().objects.get(username="jonas.fischer"))
    rows, _ = listed(jonas)
    assert korn not in rows
    assert inbox_count(jonas) == len(rows)
    anna = Actor(get_user_model().objects.get(username="anna.schmidt"))  # the market's voter
    assert korn in listed(anna)[0]
