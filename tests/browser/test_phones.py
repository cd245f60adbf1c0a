"""#19 Phones: at a 390 px viewport no main page scrolls sideways; wide tables become cards
or scroll within themselves. Each persona visits the pages of their day on a phone.

The tests only look, so the module shares one full demo bank (``shared_bank``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}


def a_case_with_the_longest_timeline() -> int:
    from django.db.models import Count

    from backoffice.cases.models import Case

    case = Case.objects.annotate(n=Count("events")).order_by("-n", "pk").first()
    assert case is not None
    return int(case.pk)


def a_credit_case() -> int:
    from backoffice.credit.models import CreditDecision

    decision = CreditDecision.objects.order_by("pk").first()
    assert decision is not None
    return int(decision.case_id)


# The main pages, by the persona whose day they belong to (the paths of "/cases/{case}/"
# are filled in once the bank is seeded).
JOURNEYS: dict[str, tuple[str, ...]] = {
    "anna.schmidt": ("/", "/inbox/", "/cases/", "/cases/new/"),
    "maria.keller": (
        "/inbox/",
        "/cases/{case}/",
        "/cases/{credit}/",
        "/credit/borrowers/",
    ),
    "max.weber": ("/", "/inbox/", "/credit/escalations/", "/credit/risk-report/"),
    "clara.vogel": (
        "/",
        "/reports/",
        "/walls/",
        "/walls/restricted/",
        "/walls/crossings/",
        "/walls/denials/",
        "/access/mitigations/",
        "/access/risks/",  # #19 the dashboard's access risks by level
        "/access/simulate/",
        "/access/reviews/",
    ),
    "martin.jung": ("/credit/register/", "/audit/", "/organisation/", "/reports/"),
    "sophie.krueger": ("/trading/", "/trading/reports/unconfirmed/", "/trading/reports/late/"),
    "ben.krause": ("/trading/reports/off-market/", "/trading/reports/corrections/"),
    "oliver.richter": ("/organisation/", "/settings/", "/delegations/"),
}


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "home"


@pytest.mark.parametrize("persona", sorted(JOURNEYS))
def test_no_main_page_scrolls_sideways_on_a_phone(
    shared_session: Callable[..., Any], shared_bank: str, persona: str
) -> None:
    case, credit = a_case_with_the_longest_timeline(), a_credit_case()
    page = shared_session(persona, language="en")
    page.set_viewport_size(PHONE)
    too_wide = []
    for path in JOURNEYS[persona]:
        url = path.format(case=case, credit=credit)
        response = page.goto(f"{shared_bank}{url}")
        assert response is not None and response.ok, (persona, url, response and response.status)
        width = page.evaluate("document.documentElement.scrollWidth")
        screenshot(
            page, f"phone-{persona.split('.')[0]}-{slug(path.format(case='case', credit='credit'))}"
        )
        if width > PHONE["width"]:
            too_wide.append((url, width))
    assert too_wide == [], f"{persona}: pages wider than the phone: {too_wide}"
