"""#14: the inbox badge counts to a cap and says "99+" beyond it, so that a back office with
thousands of cases waiting does not pay for counting them all on every page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases import queries
from backoffice.cases.services import do_start_case
from tests.cases.conftest import payment

pytestmark = pytest.mark.django_db


def _waiting(count: int) -> None:
    anna = Actor(get_user_model().objects.get(username="anna.schmidt"))
    for _ in range(count):
        do_start_case(anna, "payment-release", payment("2500.00"), submit=True).raise_if_denied()


def _badge(page: Any) -> str:
    html = page.content.decode()
    start = html.index('id="nav-inbox-count">') + len('id="nav-inbox-count">')
    return html[start : html.index("<", start)]


def test_below_the_cap_the_badge_and_the_inbox_give_the_exact_number(
    demo_bank: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "INBOX_COUNT_CAP", 4)
    _waiting(3)
    page = login("maria.keller").get("/inbox/")
    assert _badge(page) == "3"
    assert "3 cases wait for me" in page.content.decode()


def test_at_the_cap_the_count_stops_and_says_so(
    demo_bank: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "INBOX_COUNT_CAP", 4)
    _waiting(6)
    maria = Actor(get_user_model().objects.get(username="maria.keller"))
    assert queries.inbox_count(maria) == 4  # counted to the cap, not to 6
    page = login("maria.keller").get("/inbox/")
    assert _badge(page) == "3+"
    assert "3+ cases wait for me" in page.content.decode()
