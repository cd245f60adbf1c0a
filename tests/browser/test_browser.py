"""In a real browser: the maker cannot release, the checker can, in English and German,
and a keyboard alone gets from the inbox to an action."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.notify.conftest import run_worker

pytestmark = [pytest.mark.browser]

RELEASE = {"en": "Release", "de": "Freigeben"}
SUBMIT = {"en": "Submit for release", "de": "Zur Freigabe einreichen"}


def enter_payment(page: Any, base: str, language: str) -> str:
    """Fill the start form like a person and return the new case's URL."""
    page.goto(f"{base}/cases/new/payment-release/")
    page.fill("#id_creditor", "Druckerei Adler GmbH")
    page.fill("#id_iban", "DE89 3704 0044 0532 0130 00")
    page.fill("#id_amount", "1.250,00" if language == "de" else "1250.00")
    page.fill("#id_value_date", "2026-12-10")
    page.fill("#id_purpose", "Invoice 2026-0815")
    page.get_by_role("button", name=SUBMIT[language]).click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    return str(page.url)


@pytest.mark.parametrize("language", ["en", "de"])
def test_maker_cannot_release_checker_can_and_the_timeline_shows_both(
    session: Callable[..., Any], live_bank: str, language: str
) -> None:
    # Lena may enter and release payments: as the maker of this one she must not release it
    lena = session("lena.schulz", language=language)
    case_url = enter_payment(lena, live_bank, language)
    expect(lena.get_by_role("button", name=RELEASE[language], exact=True)).to_have_count(0)
    # calling the action URL directly is refused by the same service
    token = lena.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    refused = lena.request.post(
        f"{case_url}act/",
        form={"action": "release"},
        headers={"X-CSRFToken": token, "Referer": case_url},
    )
    assert refused.status == 403
    assert "sod.self_approval" in refused.text()
    screenshot(lena, f"case-as-maker-{language}")

    maria = session("maria.keller", language=language)
    maria.goto(case_url)
    maria.get_by_role("button", name=RELEASE[language], exact=True).click()
    maria.wait_for_url(case_url)
    timeline = maria.locator("#timeline")
    expect(timeline).to_contain_text("Lena Schulz")  # #19: names, not logins
    expect(timeline).to_contain_text("Maria Keller")
    expect(maria.locator(".case-head .state")).to_have_text(
        "released" if language == "en" else "freigegeben"
    )
    screenshot(maria, f"case-released-{language}")


def test_keyboard_only_from_the_inbox_to_a_release(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("sophie.krueger", language="en")  # logged in by typing and Enter
    page.keyboard.press("Tab")  # skip link
    expect(page.locator("a.skip")).to_be_focused()
    # Tab through the navigation until the inbox link has the focus, then follow it
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip().startswith("Inbox"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_bank}/inbox/")
    screenshot(page, "inbox")
    for _ in range(15):
        page.keyboard.press("Tab")
        if "Maschinenbau Roth" in page.evaluate("document.activeElement.textContent"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case_url = page.url
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").strip() == "Release":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(case_url)
    expect(page.locator(".case-head .state")).to_have_text("released")


def test_screenshots_of_the_main_pages(session: Callable[..., Any], live_bank: str) -> None:
    page = session("maria.keller")
    screenshot(page, "home")
    page.goto(f"{live_bank}/organisation/")
    expect(page.locator("h1")).to_have_text("Organisation")
    screenshot(page, "organisation")
    page.goto(f"{live_bank}/cases/")
    screenshot(page, "cases-report")
    page.goto(f"{live_bank}/cases/new/master-data-change/")
    screenshot(page, "start-form")


def test_no_page_breaks_the_content_security_policy(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("martin.jung", language="en")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    for url in [
        "/",
        "/inbox/",
        "/cases/",
        "/cases/1/",
        "/organisation/",
        "/audit/",
        "/api/v1/docs",
        "/settings/",
        "/access/mitigations/",
        "/access/simulate/?person=paul.meyer&add_roles=payment-releaser",
    ]:
        page.goto(f"{live_bank}{url}")
        page.wait_for_load_state("networkidle")
    page.goto(f"{live_bank}/audit/")
    page.get_by_role("button", name="Verify the chain now").click()  # an htmx request
    # #19: the worker verifies; the page asks until it is done (tests/browser/test_progress.py)
    expect(page.locator("#verification")).to_contain_text("Waiting for the worker")
    run_worker()
    expect(page.locator("#verification")).to_contain_text("Intact")
    assert violations == []


def test_compliance_sees_a_risky_grant_simulates_it_and_gives_the_second_approval(
    session: Callable[..., Any], live_bank: str
) -> None:
    """The demo seeds a grant that gives paul.meyer payment release on top of payment entry:
    the case shows the risks and why, the what-if agrees, and compliance releases it."""
    page = session("clara.vogel", language="en")
    page.goto(f"{live_bank}/access/simulate/")
    page.fill("#id_person", "paul.meyer")
    page.select_option("#id_add_roles", ["payment-releaser"])
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator(".verdict")).to_have_attribute("data-verdict", "second_level")
    expect(page.locator("#simulation")).to_contain_text("Payment entry and payment release")
    screenshot(page, "what-if")
    page.goto(f"{live_bank}/inbox/")
    page.get_by_role("link", name=re.compile("Payment releaser")).first.click()
    expect(page.locator(".assessment")).to_contain_text("payment.release")
    screenshot(page, "role-grant-with-risks")
    page.get_by_role("button", name="Release").click()
    expect(page.locator(".status, .state").first).to_contain_text("released")
    page.goto(f"{live_bank}/access/mitigations/?status=expiring")
    expect(page.locator("#mitigations")).to_contain_text("lena.schulz")
