"""A credit case in the browser: the votes side by side, and a vote cast from the page."""

from __future__ import annotations

from typing import Any

from backoffice.cases.models import Case
from backoffice.credit.demo import seed_demo_credit
from tests.web.test_pages import as_user


def in_voting(demo_bank: Any) -> Case:
    seed_demo_credit()
    # Felix's machinery loan for B000007: submitted, nobody has voted yet
    return Case.objects.get(
        process__key="credit-decision",
        maker__username="felix.hoffmann",
        status="in_voting",
        payload__borrower="B000007",
    )


def test_the_votes_stand_side_by_side_with_the_assessment(demo_bank: Any) -> None:
    seed_demo_credit()
    escalated = Case.objects.get(process__key="credit-decision", status="escalated")
    page = as_user("martin.jung").get(f"/cases/{escalated.pk}/").content.decode()
    # #19: the rule ids are in tooltips, not in the text
    assert '<dt title="CR-1">Group exposure after</dt>' in page
    assert '<dt title="CR-3">Required level</dt>' in page
    market = page[page.index('id="side-market"') : page.index('id="side-back_office"')]
    back_office = page[page.index('id="side-back_office"') : page.index('id="side-board"')]
    assert "anna.schmidt" in market and "Approve" in market
    assert "maria.keller" in back_office and "Reject" in back_office


def test_a_market_vote_cast_from_the_page(demo_bank: Any) -> None:
    case = in_voting(demo_bank)
    julia = as_user("julia.wagner")  # market, level L4: the 2.6m group exposure needs L4
    page = julia.get(f"/cases/{case.pk}/").content.decode()
    assert 'value="vote"' in page and 'name="rating"' in page
    voted = julia.post(
        f"/cases/{case.pk}/act/",
        {
            "action": "vote",
            "decision": "approve",
            "rating": "4",
            "comment": "Machinery replaces leased equipment; cheaper.",
        },
    )
    assert voted.status_code == 302, voted.content.decode()[:2000]
    page = julia.get(f"/cases/{case.pk}/").content.decode()
    market = page[page.index('id="side-market"') : page.index('id="side-back_office"')]
    assert "julia.wagner" in market and "Machinery replaces leased equipment" in market


def test_a_vote_without_rationale_is_refused_on_the_page(demo_bank: Any) -> None:
    case = in_voting(demo_bank)
    refused = as_user("julia.wagner").post(
        f"/cases/{case.pk}/act/", {"action": "vote", "decision": "approve", "rating": "4"}
    )
    assert refused.status_code == 422
    assert 'id="comment-error"' in refused.content.decode()


def test_reports_page_lists_what_i_may_read(demo_bank: Any) -> None:
    board = as_user("sabine.roth").get("/reports/").content.decode()
    assert "/credit/register/" in board and "/audit/" not in board
    auditor = as_user("martin.jung").get("/reports/").content.decode()
    assert (
        "/credit/register/" in auditor and "/audit/" in auditor and "/walls/crossings/" in auditor
    )
    clerk = as_user("paul.meyer").get("/reports/").content.decode()
    assert "/credit/register/" not in clerk and "/walls/restricted/" in clerk


def test_the_dashboard_shows_escalations_to_report_readers(demo_bank: Any) -> None:
    seed_demo_credit()
    page = as_user("sabine.roth", language="en").get("/").content.decode()
    assert "credit cases in escalation" in page
    assert "credit cases in escalation" not in as_user("paul.meyer").get("/").content.decode()
