"""Issue 19's defects, each as a person meets it in the browser (each failed before its fix)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser]

JUSTIFICATION = "Export contracts of five years cover the debt service twice."


@pytest.fixture
def credit_bank(live_bank: str) -> str:
    """The demo bank with its credit cases (one decided against the back office by the board)."""
    from backoffice.credit.demo import seed_demo_credit

    seed_demo_credit()
    return live_bank


def credit_case(borrower: str, purpose: str) -> int:
    from backoffice.credit.models import CreditDecision

    found = [
        d.case_id
        for d in CreditDecision.objects.select_related("case", "borrower")
        if d.borrower.number == borrower and d.case.payload.get("purpose") == purpose
    ]
    assert len(found) == 1
    return found[0]


def test_1_the_boards_justification_is_on_the_case_in_the_risk_report_and_its_csv(
    session: Callable[..., Any], credit_bank: str
) -> None:
    case = credit_case("B000004", "Cellar")
    page = session("max.weber", language="en")
    page.goto(f"{credit_bank}/cases/{case}/")
    expect(page.locator(".vote .justification")).to_contain_text(JUSTIFICATION)
    page.goto(f"{credit_bank}/credit/risk-report/?start=2000-01-01&end=2100-12-31")
    expect(page.locator("table")).to_contain_text(JUSTIFICATION)
    screenshot(page, "risk-report")
    csv_url = page.get_by_role("link", name="Download as CSV").get_attribute("href")
    csv = page.request.get(f"{credit_bank}{csv_url}")
    assert csv.ok
    assert JUSTIFICATION in csv.text()
    assert "justification" in csv.text().splitlines()[0]


def test_2_a_credit_case_in_voting_or_escalation_says_what_it_waits_for(
    session: Callable[..., Any], credit_bank: str
) -> None:
    escalated = credit_case("B000002", "Fleet")
    voting = credit_case("B000007", "Machinery")
    committee = credit_case("B000005", "Grid")
    page = session("max.weber", language="en")
    page.goto(f"{credit_bank}/cases/{escalated}/")
    expect(page.locator("#credit-next")).to_contain_text("waiting for the decision")
    expect(page.get_by_text("Nothing; the case is closed.")).to_have_count(0)
    page.goto(f"{credit_bank}/cases/{voting}/")
    expect(page.locator("#credit-next")).to_contain_text("Waiting for the market vote")
    expect(page.get_by_text("Nothing; the case is closed.")).to_have_count(0)
    page.goto(f"{credit_bank}/cases/{committee}/")
    expect(page.locator("#credit-next")).to_contain_text("credit committee")


def test_3_the_boards_escalation_decision_stands_under_the_board_not_the_market(
    session: Callable[..., Any], credit_bank: str
) -> None:
    case = credit_case("B000004", "Cellar")
    page = session("max.weber", language="en")
    page.goto(f"{credit_bank}/cases/{case}/")
    market = page.locator(".vote-column[aria-labelledby=side-market]")
    board = page.locator(".vote-column[aria-labelledby=side-board]")
    expect(market).not_to_contain_text("Max Weber")
    expect(board).to_contain_text("Max Weber")
    expect(board).not_to_contain_text("No vote yet.")
    screenshot(page, "credit-case-decided")


def test_4_a_second_request_on_the_same_object_is_refused_and_shows_the_pending_one(
    session: Callable[..., Any], live_bank: str
) -> None:
    """A restriction lift asked for twice, and a second role grant for the same person and
    role: the pending case is shown and linked, and no second case starts."""
    from backoffice.cases.models import Case
    from backoffice.walls.seed import seed_demo_walls

    seed_demo_walls()
    page = session("clara.vogel", language="en")
    page.goto(f"{live_bank}/walls/")
    row = page.locator("#lists tbody tr", has=page.get_by_role("button", name="Ask to lift"))
    row.first.locator("input[name=reason]").fill("The deal was announced and closed.")
    row.first.get_by_role("button", name="Ask to lift").click()
    pending = page.locator("a.pending-lift")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("Lift requested: case #")
    lifts = Case.objects.filter(process__key="restricted-list-lift").count()
    # the same lift through the generic form: refused, the pending case linked
    issuer = Case.objects.filter(process__key="restricted-list-lift").get().payload["issuer"]
    page.goto(f"{live_bank}/cases/new/restricted-list-lift/")
    page.fill("#id_issuer", issuer)
    page.fill("#id_reason", "Once more.")
    page.get_by_role("button", name="Submit for release").click()
    expect(page.locator(".alert")).to_contain_text("already open")
    page.locator("#pending-case a").click()
    expect(page.locator(".case-head")).to_contain_text("Lifting a restriction")
    assert Case.objects.filter(process__key="restricted-list-lift").count() == lifts

    # a role grant for a person and role with a grant pending (the demo's, by Anna Schmidt)
    anna = session("anna.schmidt", language="en")
    grants = Case.objects.filter(process__key="role-grant").count()
    anna.goto(f"{live_bank}/cases/new/role-grant/")
    anna.select_option("#id_beneficiary", "felix.hoffmann")
    anna.select_option("#id_role", "master-data-clerk")
    anna.fill("#id_valid_from", "2026-12-01")
    anna.fill("#id_justification", "Once more, in case the first was lost.")
    anna.get_by_role("button", name="Submit for release").click()
    expect(anna.locator(".alert")).to_contain_text("already open")
    expect(anna.locator("#pending-case")).to_contain_text("Master data clerk")
    screenshot(anna, "second-request-refused")
    assert Case.objects.filter(process__key="role-grant").count() == grants


def test_5_the_dashboards_escalation_count_agrees_with_its_chart_and_the_list(
    session: Callable[..., Any], credit_bank: str
) -> None:
    page = session("clara.vogel", language="en")
    tile = page.locator("a.tile", has_text="credit cases in escalation")
    count = int(tile.locator(".big").inner_text())
    bar = page.locator("svg.chart a.chart-link[href$='state=escalated']")
    assert int(bar.locator(".chart-value").text_content() or "") == count
    tile.click()
    page.wait_for_url("**/cases/?state=escalated")
    expect(page.locator("#case-table tbody tr")).to_have_count(count)
    screenshot(page, "home-compliance")


def test_11_the_cases_list_filters_by_the_credit_states(
    session: Callable[..., Any], credit_bank: str
) -> None:
    page = session("max.weber", language="en")
    page.goto(f"{credit_bank}/cases/")
    options = page.locator("#f-state option")
    for value, label in (
        ("in_voting", "in voting"),
        ("escalated", "escalated"),
        ("approved", "approved"),
    ):
        expect(options.and_(page.locator(f"[value={value}]"))).to_have_text(label)
    page.select_option("#f-state", "in_voting")
    page.wait_for_url("**state=in_voting**")
    rows = page.locator("#case-table tbody tr")
    expect(rows.first).to_contain_text("in voting")
    assert rows.count() >= 2


def test_7_why_me_and_refusals_speak_in_words_not_permission_strings(
    session: Callable[..., Any], credit_bank: str
) -> None:
    page = session("max.weber", language="en")
    page.goto(f"{credit_bank}/inbox/")
    why = page.locator("#waiting td.why-me")
    assert why.count() > 0
    for text in why.all_inner_texts():
        assert "permission" not in text and not text.strip().startswith(":"), text
        assert "You act as" in text, text
    credit_row = page.locator("#waiting tr", has_text="Fleet")
    expect(credit_row.locator("td.why-me")).to_contain_text("Escalation decision")
    expect(credit_row.locator("td.why-me")).to_contain_text("Board member")
    screenshot(page, "inbox-why-me")
    # a refusal names the roles that may act, not the permissions behind them
    maria = session("maria.keller", language="en")
    maria.goto(f"{credit_bank}/cases/new/credit-decision/")
    maria.fill("#id_borrower", "B000001")
    maria.select_option("#id_product", "overdraft")
    maria.fill("#id_amount", "1000.00")
    maria.fill("#id_purpose", "Working capital")
    maria.fill("#id_term_months", "12")
    maria.fill("#id_collateral", "None")
    maria.get_by_role("button", name="Submit for release").click()
    alert = maria.locator(".alert")
    expect(alert).to_contain_text("can be started only by Credit officer (market)")
    expect(alert).not_to_contain_text("credit.apply")


def test_8_a_missing_rationale_is_a_form_error_not_a_recorded_refusal(
    session: Callable[..., Any], credit_bank: str
) -> None:
    from backoffice.audit.models import AuditEvent
    from backoffice.cases.models import CaseEvent

    case = credit_case("B000007", "Machinery")
    denied_before = AuditEvent.objects.filter(action="case.denied").count()
    page = session("julia.wagner", language="en")
    page.goto(f"{credit_bank}/cases/{case}/")
    page.check("input[name=decision][value=approve]")
    page.select_option("#rating", "4")
    page.get_by_role("button", name="Vote").click()
    expect(page.locator("#comment-error")).to_be_visible()
    expect(page.locator("#denial")).to_have_count(0)  # not shown as a refusal
    expect(page.locator("input[name=decision][value=approve]")).to_be_checked()  # kept
    assert AuditEvent.objects.filter(action="case.denied").count() == denied_before
    assert not CaseEvent.objects.filter(case_id=case, kind="denied").exists()
    page.fill("#comment", "Machinery replaces leased equipment.")
    page.get_by_role("button", name="Vote").click()
    expect(page.locator("#timeline")).to_contain_text("Machinery replaces leased equipment.")
    # a real refusal is recorded, and its message stands apart from the comment
    from backoffice.cases.models import Case

    own = Case.objects.filter(maker__username="anna.schmidt", status="submitted").first()
    assert own is not None
    anna = session("anna.schmidt", language="en")
    anna.goto(f"{credit_bank}/cases/{own.pk}/")
    token = anna.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    refused = anna.request.post(
        f"{credit_bank}/cases/{own.pk}/act/",
        form={"action": "release", "comment": "Urgent, please."},
        headers={"X-CSRFToken": token or "", "Referer": anna.url},
    )
    assert refused.status == 403
    anna.reload()
    row = anna.locator("#timeline tr.event-denied").last
    expect(row.locator("p.comment")).to_have_text("Urgent, please.")
    expect(row.locator("p.denial-message")).to_contain_text("you do not qualify")


def test_14_the_vote_form_preselects_nothing_and_shows_no_cr6_field_to_a_market_voter(
    session: Callable[..., Any], credit_bank: str
) -> None:
    case = credit_case("B000007", "Machinery")
    page = session("julia.wagner", language="en")
    page.goto(f"{credit_bank}/cases/{case}/")
    expect(page.locator("input[name=decision]")).to_have_count(2)
    expect(page.locator("input[name=decision]:checked")).to_have_count(0)
    expect(page.locator("#justification")).to_have_count(0)
    expect(page.locator("#actions")).not_to_contain_text("CR-6")


def test_10_logout_and_the_error_pages_are_the_products_own(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("maria.keller", language="en")
    missing = page.goto(f"{live_bank}/no-such-page/")
    assert missing is not None and missing.status == 404
    expect(page.locator(".error-page h1")).to_have_text("Not found")
    expect(page.locator("a.brand")).to_have_text("Backoffice")
    expect(page.get_by_role("link", name="Back to the start page")).to_be_visible()
    forged = page.request.post(f"{live_bank}/cases/1/act/", form={"action": "release"})
    assert forged.status == 403
    assert 'class="card narrow-wide error-page"' in forged.text()
    page.goto(f"{live_bank}/")
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("h1")).to_have_text("Logged out")
    expect(page.locator("body")).not_to_contain_text("quality time")
    expect(page.get_by_role("link", name="Log in again")).to_be_visible()
    german = session("maria.keller", language="de")
    german.goto(f"{live_bank}/no-such-page/")
    expect(german.locator(".error-page h1")).to_have_text("Nicht gefunden")


def test_12_report_tables_are_formatted_linked_and_fit_a_1400_px_window(
    session: Callable[..., Any], credit_bank: str
) -> None:
    page = session("max.weber", language="en")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{credit_bank}/credit/register/")
    table = page.locator("table.report")
    text = table.inner_text()
    assert "1,500,000.00 EUR" in text and "1500000.00" not in text
    assert "+00:00" not in text and "deviating_decision" not in text
    assert "decided against the back-office vote" in text
    assert "anna.schmidt" not in text and "Anna Schmidt: approve" in text
    case_link = table.locator("td.col-case a").first
    expect(case_link).to_have_attribute("href", re.compile(r"/cases/\d+/$"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1400, width
    screenshot(page, "credit-register")
    # the CSV keeps plain values and ISO times
    csv = page.request.get(f"{credit_bank}/api/v1/credit/register?format=csv").text()
    assert "1500000.00" in csv and "deviating_decision" in csv


def test_9_one_date_format_per_language(session: Callable[..., Any], credit_bank: str) -> None:
    english = session("martin.jung", language="en")
    english.goto(f"{credit_bank}/audit/")
    first = english.locator("table tbody tr td").nth(1).inner_text()
    assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d", first), first
    english.goto(f"{credit_bank}/cases/")
    changed = english.locator("#case-table tbody tr td").nth(6).inner_text()
    assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d", changed), changed
    assert "a.m." not in english.content() and "p.m." not in english.content()
    german = session("martin.jung", language="de")
    german.goto(f"{credit_bank}/cases/")
    changed = german.locator("#case-table tbody tr td").nth(6).inner_text()
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", changed), changed
    # a value date in the payload, in the page's format
    payment = credit_case_of("payment-release")
    german.goto(f"{credit_bank}/cases/{payment}/")
    expect(german.locator("dl.payload")).to_contain_text(re.compile(r"\d\d\.\d\d\.\d{4}"))


def credit_case_of(process: str) -> int:
    from backoffice.cases.models import Case

    return int(
        Case.objects.filter(process__key=process).order_by("pk").values_list("pk", flat=True)[0]
    )


def test_13_names_not_logins_or_slugs_and_the_what_if_takes_a_name(
    session: Callable[..., Any], live_bank: str
) -> None:
    page = session("clara.vogel", language="en")
    page.goto(f"{live_bank}/cases/?process=role-grant")
    titles = page.locator("#case-table tbody td:nth-child(2)").all_inner_texts()
    assert "Payment releaser" in titles and "payment-releaser" not in titles, titles
    page.get_by_role("link", name="Payment releaser").first.click()
    expect(page.locator("#timeline")).to_contain_text("Maria Keller")
    expect(page.locator("#timeline")).not_to_contain_text("maria.keller")
    page.goto(f"{live_bank}/access/simulate/")
    options = page.locator("datalist#people option")
    assert options.count() > 10
    page.fill("#id_person", "Paul Meyer")
    page.select_option("#id_add_roles", ["payment-releaser"])
    page.get_by_role("button", name="Simulate").click()
    expect(page.locator(".verdict")).to_have_attribute("data-verdict", "second_level")
    expect(page.locator("#simulation h2")).to_contain_text("Paul Meyer")


def test_14_ibans_grouped_risk_badges_coloured_diff_live_policy_and_no_rule_ids_in_text(
    session: Callable[..., Any], credit_bank: str
) -> None:
    from backoffice.cases.models import Case

    page = session("maria.keller", language="en")
    payment = credit_case_of("payment-release")
    page.goto(f"{credit_bank}/cases/{payment}/")
    expect(page.locator("dl.payload .iban")).to_have_text(
        re.compile(r"^[A-Z]{2}\d\d( \w{4})+( \w{1,4})?$")
    )
    # every aria-describedby names an element that exists (the start forms included)
    for url in (f"/cases/{payment}/", "/cases/new/payment-release/", "/cases/new/wall-crossing/"):
        page.goto(f"{credit_bank}{url}")
        missing = page.evaluate(
            """() => [...document.querySelectorAll('[aria-describedby]')]
                 .flatMap(e => e.getAttribute('aria-describedby').split(' '))
                 .filter(id => !document.getElementById(id))"""
        )
        assert missing == [], (url, missing)
    # a credit case names no rule ids and no docs in its text (they are in tooltips)
    credit = credit_case("B000004", "Cellar")
    page.goto(f"{credit_bank}/cases/{credit}/")
    panel = page.locator("section.credit").inner_text()
    assert "CR-" not in panel and "PROC-" not in panel and "docs/" not in page.inner_text("body")
    expect(page.locator("section.credit dt[title=CR-3]")).to_have_text("Required level")
    # a grant's risk level is a coloured badge
    clara = session("clara.vogel", language="en")
    grant = Case.objects.filter(process__key="role-grant", payload__risk="high").first()
    assert grant is not None
    clara.goto(f"{credit_bank}/cases/{grant.pk}/")
    expect(clara.locator(".badge.level-high").first).to_be_visible()
    # a policy proposal starts from the live policy, and its diff is coloured
    oliver = session("oliver.richter", language="en")
    oliver.goto(f"{credit_bank}/cases/new/policy-change/")
    proposal = oliver.locator("#id_policy").input_value()
    assert "processes:" in proposal and "payment-release" in proposal
    oliver.fill("#id_summary", "Rename the payment process")
    oliver.fill(
        "#id_policy",
        proposal.replace("{en: Payment release,", "{en: Payment release (SEPA),", 1),
    )
    oliver.get_by_role("button", name="Submit for release").click()
    oliver.wait_for_url(re.compile(r"/cases/\d+/$"))
    expect(oliver.locator("pre.diff .add").first).to_contain_text("Payment release (SEPA)")
    expect(oliver.locator("pre.diff .del").first).to_contain_text("Payment release")


def test_6_a_market_officer_finds_a_borrower_and_sees_group_exposure_and_history(
    session: Callable[..., Any], credit_bank: str
) -> None:
    page = session("lukas.becker", language="en")  # market: credit.apply, no reports.read
    page.goto(f"{credit_bank}/reports/")
    page.get_by_role("link", name="Borrowers").click()
    expect(page.locator("#q-help")).to_contain_text("B000001")
    page.fill("#q", "schmidt")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#borrowers tbody tr")
    expect(rows).to_have_count(2)  # Schmidt Logistik AG, Schmidt Immobilien GmbH
    page.get_by_role("link", name="B000002").click()
    expect(page.locator("h1")).to_contain_text("Schmidt Logistik AG")
    expect(page.locator("#group-h")).to_contain_text("Schmidt Logistik group")
    expect(page.locator("#exposure")).to_contain_text("1,500,000.00 EUR")
    expect(page.locator("#history")).to_contain_text("Fleet")
    screenshot(page, "borrower")
    # someone without need-to-know is refused
    research = session("paul.meyer", language="en")
    refused = research.goto(f"{credit_bank}/credit/borrowers/")
    assert refused is not None and refused.status == 403


def test_6_a_new_borrower_goes_under_four_eyes_through_the_pages(
    session: Callable[..., Any], credit_bank: str
) -> None:
    from backoffice.credit.models import Borrower

    lukas = session("lukas.becker", language="en")
    lukas.goto(f"{credit_bank}/credit/borrowers/")
    lukas.get_by_role("link", name="New borrower or change (four eyes)").click()
    lukas.select_option("#id_change", "create")
    lukas.fill("#id_number", "B000099")
    lukas.fill("#id_name", "Neue Mühle GmbH")
    lukas.fill("#id_group", "korn")
    lukas.fill("#id_reason", "New customer of the Korn group.")
    lukas.get_by_role("button", name="Submit for release").click()
    lukas.wait_for_url(re.compile(r"/cases/\d+/$"))
    case_url = lukas.url
    assert not Borrower.objects.filter(number="B000099").exists()  # not before the release
    expect(lukas.get_by_role("button", name="Release", exact=True)).to_have_count(0)
    anna = session("anna.schmidt", language="en")
    anna.goto(case_url)
    anna.get_by_role("button", name="Release", exact=True).click()
    anna.wait_for_url(case_url)
    anna.goto(f"{credit_bank}/credit/borrowers/?q=M%C3%BChle")
    anna.get_by_role("link", name="B000099").click()
    expect(anna.locator("#group-h")).to_contain_text("Korn Backwaren group")
