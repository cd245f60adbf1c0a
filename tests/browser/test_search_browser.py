"""#19: the search box in the header, as a market officer uses it: type, Enter, pick a hit;
in English and German, on a desktop and a phone (no sideways scrolling)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]


@pytest.fixture
def credit_bank(live_bank: str) -> str:
    from backoffice.credit.demo import seed_demo_credit

    seed_demo_credit()
    return live_bank


@pytest.mark.parametrize(("language", "heading"), [("en", "Borrowers"), ("de", "Kreditnehmer")])
def test_a_market_officer_finds_a_borrower_from_the_header(
    session: Callable[..., Any], credit_bank: str, language: str, heading: str
) -> None:
    page = session("lukas.becker", language=language)
    box = page.locator("header form[role=search] input[name=q]")
    box.fill("Weingut")
    box.press("Enter")
    page.wait_for_url(f"{credit_bank}/search/?q=Weingut")
    expect(page.locator("#found-borrowers")).to_have_text(heading)
    screenshot(page, f"search-{language}")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"search-{language}-phone")
    page.get_by_role("link", name="B000004 Weingut Lange KG").click()
    page.wait_for_url(f"{credit_bank}/credit/borrowers/B000004/")
