"""The pages people work in, through Django's test client (the browser tests drive Chromium)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backoffice.base.actor import Actor
from backoffice.cases.models import Case
from backoffice.cases.services import do_start_case
from tests.cases.conftest import payment
from tests.support import html_pages

User = get_user_model()


def as_user(username: str, language: str | None = None) -> Client:
    user = User.objects.get(username=username)
    if language:
        user.profile.language = language
        user.profile.save()
    client = Client()
    client.force_login(user)
    return client


def start(maker: str = "anna.schmidt", amount: str = "2500.00") -> Case:
    user = User.objects.get(username=maker)
    outcome = do_start_case(Actor(user), "payment-release", payment(amount), submit=True)
    return outcome.raise_if_denied()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/inbox/",
        "/cases/",
        "/cases/new/",
        "/cases/1/",
        "/organisation/",
        "/delegations/",
        "/settings/",
    ],
)
def test_every_page_needs_a_login(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_maker_sees_no_release_button_and_the_url_refuses_it(demo_bank: Any) -> None:
    case = start(maker="lena.schulz")  # Lena could release others' payments
    lena = as_user("lena.schulz")
    page = lena.get(f"/cases/{case.pk}/").content.decode()
    assert 'value="release"' not in page and 'value="withdraw"' in page
    assert "sod.self_approval" in page  # explained under "Why can't I …?"
    refused = lena.post(f"/cases/{case.pk}/act/", {"action": "release"})
    assert refused.status_code == 403
    # #19: Lena reads German: the refusal's meaning in German, its code beside it
    assert "Der Erfasser darf seinen eigenen Vorgang nicht prüfen." in refused.content.decode()
    assert Case.objects.get(pk=case.pk).status == "submitted"


def test_a_checker_releases_from_the_page_and_the_timeline_shows_both(demo_bank: Any) -> None:
    case = start()
    maria = as_user("maria.keller")
    page = maria.get(f"/cases/{case.pk}/").content.decode()
    assert 'value="release"' in page
    payload_hash = re.search(r'name="payload_hash" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    done = maria.post(f"/cases/{case.pk}/act/", {"action": "release", "payload_hash": payload_hash})
    assert done.status_code == 302
    page = maria.get(f"/cases/{case.pk}/").content.decode()
    timeline = page[page.index('id="timeline"') :]
    assert "anna.schmidt" in timeline and "maria.keller" in timeline and "released" in timeline


def test_inbox_shows_why_and_counts_in_the_navigation(demo_bank: Any) -> None:
    start(amount="1500000.00")
    page = as_user("sophie.krueger").get("/inbox/").content.decode()
    assert "Freigabe · 1.000.000 und mehr · 0/2" in page  # #19: the policy's German labels
    assert "Sie handeln als " in page  # #19: in words (German), not permission strings
    assert "payment.release" not in page
    assert re.search(r'id="nav-inbox-count">1<', page)


def test_inbox_queries_do_not_grow_with_the_rows(demo_bank: Any) -> None:
    start()
    lena = as_user("lena.schulz")
    lena.get("/inbox/")  # warm caches (role hierarchy, process specs)
    with CaptureQueriesContext(connection) as few:
        assert lena.get("/inbox/").status_code == 200
    for i in range(8):
        start(amount=f"{100 + i}.00")
    with CaptureQueriesContext(connection) as many:
        page = lena.get("/inbox/").content.decode()
    assert page.count("/cases/") >= 9
    assert len(many) == len(few)


#: a payment form whose IBAN is wrong (the rest is valid)
BAD_IBAN_PAYMENT = {
    "creditor": "ACME",
    "iban": "DE00 1234",
    "amount": "12.5",
    "amount__currency": "EUR",
    "value_date": "2026-12-01",
    "purpose": "x",
    "submit": "1",
}


def test_start_form_shows_errors_next_to_the_fields(demo_bank: Any) -> None:
    anna = as_user("anna.schmidt")
    form = dict(BAD_IBAN_PAYMENT)
    page = anna.post("/cases/new/payment-release/", form)
    assert page.status_code == 422
    assert re.search(r'id="id_iban-error" role="alert">is not an IBAN<', page.content.decode())
    form["iban"] = "DE89 3704 0044 0532 0130 00"
    created = anna.post("/cases/new/payment-release/", form)
    assert created.status_code == 302
    case = Case.objects.get(pk=int(created["Location"].strip("/").split("/")[-1]))
    assert case.status == "submitted" and case.payload["amount"] == {
        "amount": "12.50",
        "currency": "EUR",
    }


def test_a_returned_case_is_corrected_and_resubmitted(demo_bank: Any) -> None:
    case = start(amount="25000.00")
    maria = as_user("maria.keller")
    maria.post(f"/cases/{case.pk}/act/", {"action": "return", "comment": "wrong amount"})
    anna = as_user("anna.schmidt")
    form = anna.get(f"/cases/{case.pk}/edit/")
    assert (
        'value="25000.00"' in form.content.decode() or 'value="25000,00"' in form.content.decode()
    )
    corrected = anna.post(
        f"/cases/{case.pk}/edit/",
        {
            "creditor": "ACME",
            "iban": "DE89370400440532013000",
            "amount": "24000.00",
            "amount__currency": "EUR",
            "value_date": "2026-12-01",
            "purpose": "x",
            "submit": "1",
        },
    )
    assert corrected.status_code == 302
    case.refresh_from_db()
    assert case.status == "submitted" and case.payload["amount"]["amount"] == "24000.00"


def test_refused_without_a_reason_to_reject(demo_bank: Any) -> None:
    case = start()
    refused = as_user("maria.keller").post(f"/cases/{case.pk}/act/", {"action": "reject"})
    page = refused.content.decode()
    # #19: a missing reason is a form error at its field, not a refusal
    assert refused.status_code == 422 and "Say why you are rejecting" in page
    assert 'id="comment-error"' in page and 'id="denial"' not in page


def test_a_case_you_may_not_see_is_a_404_page(demo_bank: Any) -> None:
    case = start()
    response = as_user("tim.hartmann").get(f"/cases/{case.pk}/")
    assert response.status_code == 404 and b"Not found" in response.content


def test_german_pages(demo_bank: Any) -> None:
    case = start()
    page = as_user("maria.keller", language="de").get(f"/cases/{case.pk}/").content.decode()
    assert '<html lang="de">' in page
    assert ">Freigeben</button>" in page and "Verlauf" in page and "2.500,00 EUR" in page


def test_language_is_chosen_per_user_in_settings(demo_bank: Any) -> None:
    anna = as_user("anna.schmidt")
    assert anna.post("/settings/", {"language": "de"}).status_code == 302
    assert User.objects.get(username="anna.schmidt").profile.language == "de"
    assert "Eingang" in anna.get("/").content.decode()


def test_delegations_page(demo_bank: Any) -> None:
    lena = as_user("lena.schulz")
    created = lena.post(
        "/delegations/",
        {
            "substitute": "jonas.fischer",
            "valid_from": "2026-11-26",
            "valid_to": "2026-12-24",
            "reason": "holiday",
        },
    )
    assert created.status_code == 302
    page = lena.get("/delegations/").content.decode()
    assert "Jonas Fischer" in page and "holiday" in page
    refused = lena.post(
        "/delegations/",
        {"substitute": "lena.schulz", "valid_from": "2026-11-26", "valid_to": "2026-12-24"},
    )
    assert refused.status_code == 422 and "own substitute" in refused.content.decode()


# -- #14: login lock-outs, one page at a time ----------------------------------------------


def lock_out(count: int, *, first: int = 0) -> list[str]:
    """``count`` user names locked out from an address each (five failures since a while);
    returns them latest attempt first, as the page lists them."""
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    now = timezone.now()
    names = []
    for n in range(first, first + count):
        name = f"locked-{n}"
        for agent, failures in (("browser", 3), ("script", 2)):  # one pair, two browsers
            AccessAttempt.objects.create(
                username=name,
                ip_address=f"203.0.113.{n % 250}",
                user_agent=agent,
                http_accept="*/*",
                path_info="/login/",
                get_data="",
                post_data="",
                failures_since_start=failures,
            )
        # two share each minute: the newest attempt row breaks the tie
        AccessAttempt.objects.filter(username=name).update(
            attempt_time=now - timedelta(minutes=10 - n // 2)
        )
        names.append(name)
    AccessAttempt.objects.get_or_create(  # four failures: not locked out, not listed
        username="almost",
        ip_address="203.0.113.251",
        user_agent="browser",
        defaults={"http_accept": "*/*", "path_info": "/login/", "failures_since_start": 4},
    )
    return names[::-1]


LOCKOUT_ROW = re.compile(r"<tr>\s*<td>(locked-\d+)</td>")


def test_the_lockouts_page_shows_each_lockout_once_latest_first(demo_bank: Any) -> None:
    names = lock_out(7)
    oliver = as_user("oliver.richter")  # administrator: access.lockout.lift
    pages = html_pages(oliver, "/lockouts/?limit=3")
    seen = [name for _, html in pages for name in LOCKOUT_ROW.findall(html)]
    assert seen == names and len(pages) == 3  # the last page has no next link
    assert "almost" not in seen
    for tampered in (
        '["x", "y"]',
        '["2026-13-40", 1]',
        '["2026-01-01T00:00:00Z", 10000000000000000000000]',
    ):
        token = base64.urlsafe_b64encode(tampered.encode()).decode()
        page = oliver.get(f"/lockouts/?limit=3&after={token}")  # the first page again
        assert page.status_code == 200 and LOCKOUT_ROW.findall(page.content.decode()) == names[:3]


def test_the_lockouts_page_reads_as_many_statements_for_3_as_for_30(demo_bank: Any) -> None:
    lock_out(3)
    oliver = as_user("oliver.richter")
    oliver.get("/lockouts/")
    with CaptureQueriesContext(connection) as few:
        assert oliver.get("/lockouts/").status_code == 200
    lock_out(27, first=3)
    with CaptureQueriesContext(connection) as many:
        page = oliver.get("/lockouts/").content.decode()
    assert len(LOCKOUT_ROW.findall(page)) == 30
    assert len(many) == len(few)
