"""#19: lists in the browser: a header click sorts, a person is picked with the keyboard,
a form shows every wrong field at once, a wall crossing's project is picked from a list."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]


def test_a_click_on_a_header_sorts_the_cases_and_a_second_click_turns_it_round(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("martin.jung")
    page.goto(f"{live_bank}/cases/")
    header = page.locator("#case-table th", has_text="Case")
    expect(header).not_to_have_attribute("aria-sort", re.compile(".+"))
    header.get_by_role("link").click()
    page.wait_for_url(re.compile(r".*sort=title"))
    expect(page.locator("#case-table th[aria-sort=ascending]")).to_contain_text("Case")
    expect(page.locator("#case-table th[aria-sort=ascending] .sort-arrow")).to_have_text("▲")
    titles = page.locator("#case-table tbody tr td:nth-child(2)").all_inner_texts()
    assert len(titles) > 2 and titles == sorted(titles)
    screenshot(page, "cases-sorted-en")
    page.locator("#case-table th", has_text="Case").get_by_role("link").click()
    page.wait_for_url(re.compile(r".*sort=-title"))
    expect(page.locator("#case-table th[aria-sort=descending]")).to_contain_text("Case")
    titles = page.locator("#case-table tbody tr td:nth-child(2)").all_inner_texts()
    assert titles == sorted(titles, reverse=True)
    # still no sideways scrolling on a phone
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_auditor_picks_an_actor_with_the_keyboard_and_sees_only_their_events(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("martin.jung")
    page.goto(f"{live_bank}/audit/")
    box = page.locator("#f-actor")
    expect(box).to_have_attribute("role", "combobox")
    box.focus()
    page.keyboard.type("Anna")
    options = page.locator("#f-actor-options [role=option]")
    expect(options.first).to_contain_text("Anna Schmidt")
    expect(box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "f-actor-options-0")
    page.keyboard.press("Enter")
    expect(box).to_have_value("Anna Schmidt")
    expect(page.locator("input[type=hidden][name=actor]")).to_have_value("anna.schmidt")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")  # the list is closed: Enter sends the form
    expect(page).to_have_url(re.compile(r".*actor=anna\.schmidt"))
    rows = page.locator("#audit-events tbody tr")
    expect(rows.filter(has_not_text="anna.schmidt")).to_have_count(0)  # the table swapped
    actors = page.locator("#audit-events tbody tr td:nth-child(3)").all_inner_texts()
    assert actors and all(a.startswith("anna.schmidt") for a in actors)
    screenshot(page, "audit-actor-picked-en")


def test_the_cases_list_narrows_to_the_picked_maker(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("martin.jung")
    page.goto(f"{live_bank}/cases/")
    page.locator("#f-maker").focus()
    page.keyboard.type("lukas")
    expect(page.locator("#f-maker-options [role=option]").first).to_contain_text("Lukas Becker")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r".*maker=lukas\.becker"))
    rows = page.locator("#case-table tbody tr")
    expect(rows.filter(has_not_text="Lukas Becker")).to_have_count(0)  # the table swapped
    makers = page.locator("#case-table tbody tr td:nth-child(5)").all_inner_texts()
    assert makers and set(makers) == {"Lukas Becker"}


def test_a_form_with_several_wrong_fields_shows_all_their_errors_at_once(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("anna.schmidt")
    page.goto(f"{live_bank}/cases/new/payment-release/")
    page.fill("#id_iban", "DE00 1234")
    page.fill("#id_amount", "twelve")
    page.fill("#id_value_date", "2026-12-01")
    page.fill("#id_purpose", "Invoice")
    page.get_by_role("button", name="Submit for release").click()
    for field in ("creditor", "iban", "amount"):
        expect(page.locator(f"#id_{field}-error")).to_be_visible()
    expect(page.locator("#id_iban-error")).to_have_text("is not an IBAN")
    screenshot(page, "form-all-errors-en")


def test_the_crossing_project_is_a_picker_of_the_projects_one_may_know(
    session: Callable[..., Any], live_bank: str
) -> None:
    from backoffice.walls.seed import seed_demo_walls

    seed_demo_walls()
    clara = session("clara.vogel")
    clara.goto(f"{live_bank}/cases/new/wall-crossing/")
    project = clara.get_by_label("Deal project")
    expect(project).to_have_js_property("tagName", "SELECT")
    expect(project.locator("option", has_text="Project Falcon")).to_have_count(1)
    project.focus()
    clara.keyboard.press("ArrowDown")  # a select is picked with the keyboard too
    assert project.input_value() != ""
    screenshot(clara, "crossing-project-picker-en")
    niklas = session("niklas.wolf")
    niklas.goto(f"{live_bank}/cases/new/wall-crossing/")
    expect(niklas.get_by_label("Deal project").locator("option")).to_have_count(1)  # only —
    assert "falcon" not in niklas.content().lower()
