"""#19: German in the browser: a back-office analyst's inbox and a credit case in voting,
and the board member's escalated case, read in German with no English from the known list
(tests/web/test_german_pages.py has the list and checks every persona's pages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.web.test_german_pages import WORDS, data_shown

pytestmark = [pytest.mark.browser]


def english_in(text: str) -> list[str]:
    for item in data_shown():
        text = text.replace(item, " ")
    return sorted({m[0] for m in WORDS.finditer(" ".join(text.split()))})


def test_a_credit_case_reads_in_german_in_the_browser(
    session: Callable[..., Any], live_bank: str
) -> None:
    from backoffice.cases.models import Case
    from backoffice.credit.demo import seed_demo_credit

    seed_demo_credit()
    voting = Case.objects.filter(process__key="credit-decision", status="in_voting").first()
    escalated = Case.objects.get(process__key="credit-decision", status="escalated")
    assert voting is not None
    maria = session("maria.keller", language="de")
    maria.goto(f"{live_bank}/inbox/")
    expect(maria.locator("html")).to_have_attribute("lang", "de")
    expect(maria.locator("main")).to_contain_text("Kreditentscheidung")
    assert english_in(maria.locator("main").inner_text()) == []
    maria.goto(f"{live_bank}/cases/{voting.pk}/")
    expect(maria.locator("#credit-h")).to_have_text("Kreditentscheidung")
    expect(maria.locator("#payload-h")).to_have_text("Erfasste Daten")
    expect(maria.locator(".payload").first).to_contain_text("Gruppenobligo")
    assert english_in(maria.locator("main").inner_text()) == []
    screenshot(maria, "german-credit-in-voting")
    max_ = session("max.weber", language="de")
    max_.goto(f"{live_bank}/cases/{escalated.pk}/")
    expect(max_.locator("main")).to_contain_text("Eskalation, Kreditausschuss und Vorstand")
    assert english_in(max_.locator("main").inner_text()) == []
    screenshot(max_, "german-credit-escalated")
