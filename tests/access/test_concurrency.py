"""Two grants to one person released at the same moment: they are judged one after the other."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from backoffice.access.models import RoleAssignment
from backoffice.cases.services import do_command, do_start_case
from backoffice.core.four_eyes import Command, CommandKind
from tests.access.test_grants import grant, mitigation, within_mitigation


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_grants_never_add_up_to_an_ssd_breach(demo_bank: Any) -> None:
    """felix.hoffmann is a payment clerk. Settlement clerk alone is fine, payment releaser
    alone (mitigated) is fine; both would hold three roles of the payment triad (n = 3)."""
    users = {u.username: u for u in get_user_model().objects.all()}
    mitigated = do_start_case("mitigation", mitigation("felix.hoffmann"), users["anna.schmidt"])
    case = mitigated.raise_if_denied()
    do_command(case.pk, Command(CommandKind.SUBMIT), users["anna.schmidt"]).raise_if_denied()
    do_command(case.pk, Command(CommandKind.RELEASE), users["clara.vogel"]).raise_if_denied()
    cases = [
        do_start_case(
            "role-grant",
            grant("felix.hoffmann", role, **within_mitigation()),
            users["maria.keller"],
            submit=True,
        ).raise_if_denied()
        for role in ("settlement-clerk", "payment-releaser")
    ]
    assert [c.payload["risk"] for c in cases] == ["none", "none"]
    barrier = threading.Barrier(len(cases))
    outcomes: list[str] = []
    lock = threading.Lock()

    def release(case_id: int) -> None:
        anna = get_user_model().objects.get(username="anna.schmidt")
        barrier.wait()
        try:
            outcome = do_command(case_id, Command(CommandKind.RELEASE), anna)
            result = outcome.denied.code if outcome.denied else "released"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=release, args=(c.pk,)) for c in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["access.ssd", "released"], outcomes
    held = RoleAssignment.objects.filter(
        user__username="felix.hoffmann", role__key__in=["settlement-clerk", "payment-releaser"]
    )
    assert held.count() == 1
