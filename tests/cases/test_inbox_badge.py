"""#19: the inbox says "N cases wait for me" and then lists them; N and the rows agree for
every person of the demo bank. A credit in voting beyond a voter's authority level (CR-3) is
neither counted nor listed: the badge once said 1 where the list showed none."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backoffice.base.actor import Actor
from backoffice.cases.queries import get_inbox, inbox_count


@pytest.fixture
def bank(demo_bank: Any) -> None:
    from backoffice.credit.demo import seed_demo_credit
    from backoffice.ops.seed import seed_demo_cases

    seed_demo_cases()
    seed_demo_credit()


def listed(actor: Actor) -> list[int]:
    """Every row of the inbox, page after page, as the page walks it."""
    rows: list[int] = []
    after = None
    while True:
        page = get_inbox(actor, after, limit=3)
        rows += [case.pk for case in page.cases]
        if page.next_cursor is None:
            return rows
        after = page.next_cursor


def test_the_badge_counts_exactly_the_rows_the_inbox_lists_for_everyone(bank: None) -> None:
    counted = {}
    for user in get_user_model().objects.order_by("username"):
        actor = Actor(user)
        counted[user.username] = (inbox_count(actor), len(listed(actor)))
    assert {who: c for who, c in counted.items() if c[0] != c[1]} == {}
    assert sum(n for n, _ in counted.values()) > 0, "the demo bank has cases waiting"
