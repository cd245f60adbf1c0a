"""Two grants to one person released at the same moment: they are judged one after the other."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from backoffice.access.models import RoleAssignment
from backoffice.base.actor import Actor
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.four_eyes import Command, CommandKind
from tests.access.test_grants import grant, mitigation, within_mitigation


def release_together(case_ids: list[int]) -> list[str]:
    """anna.schmidt releases every case at the same moment, each in its own thread."""
    barrier = threading.Barrier(len(case_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def release(case_id: int) -> None:
        anna = get_user_model().objects.get(username="anna.schmidt")
        barrier.wait()
        try:
            outcome = do_command_by_id(Actor(anna), case_id, Command(CommandKind.RELEASE))
            result = outcome.denied.code if outcome.denied else "released"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=release, args=(case_id,)) for case_id in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_never_add_up_to_an_ssd_breach(demo_bank: Any) -> None:
    """felix.hoffmann is a payment clerk. Settlement clerk alone is fine, payment releaser
    alone (mitigated) is fine; both would hold three roles of the payment triad (n = 3)."""
    users = {u.username: Actor(u) for u in get_user_model().objects.all()}
    mitigated = do_start_case(users["anna.schmidt"], "mitigation", mitigation("felix.hoffmann"))
    case = mitigated.raise_if_denied()
    do_command_by_id(users["anna.schmidt"], case.pk, Command(CommandKind.SUBMIT)).raise_if_denied()
    do_command_by_id(users["clara.vogel"], case.pk, Command(CommandKind.RELEASE)).raise_if_denied()
    cases = [
        do_start_case(
            users["maria.keller"],
            "role-grant",
            grant("felix.hoffmann", role, **within_mitigation()),
            submit=True,
        ).raise_if_denied()
        for role in ("settlement-clerk", "payment-releaser")
    ]
    assert [c.payload["risk"] for c in cases] == ["none", "none"]
    outcomes = release_together([c.pk for c in cases])
    assert sorted(outcomes) == ["access.ssd", "released"], outcomes
    held = RoleAssignment.objects.filter(
        user__username="felix.hoffmann", role__key__in=["settlement-clerk", "payment-releaser"]
    )
    assert held.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_grant_for_next_month_and_one_for_today_released_at_once_never_both_hold(
    demo_bank: Any,
) -> None:
    """#13: settlement clerk from next month and trader from today, each fine alone on its
    first day, released at the same moment: the second is judged over its whole validity
    against the first."""
    users = {u.username: Actor(u) for u in get_user_model().objects.all()}
    next_month = (timezone.localdate() + timedelta(days=30)).isoformat()
    cases = [
        do_start_case(users["maria.keller"], "role-grant", payload, submit=True).raise_if_denied()
        for payload in (
            grant("mia.frank", "settlement-clerk", valid_from=next_month),
            grant("mia.frank", "trader"),
        )
    ]
    outcomes = release_together([c.pk for c in cases])
    assert sorted(outcomes) == ["access.ssd", "released"], outcomes
    held = RoleAssignment.objects.filter(
        user__username="mia.frank", role__key__in=["settlement-clerk", "trader"]
    )
    assert held.count() == 1
