"""Eight checkers release the same case at the same moment: exactly one release."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from backoffice.audit.models import AuditEvent
from backoffice.base.actor import Actor
from backoffice.cases.models import Case, CaseEvent
from backoffice.cases.services import do_command_by_id, do_start_case
from backoffice.core.audit import GENESIS_HASH, event_hash
from backoffice.core.four_eyes import Command, CommandKind
from tests.cases.conftest import payment

RELEASERS = [
    "lena.schulz",
    "maria.keller",
    "sophie.krueger",
    "eva.hahn",
    "max.weber",
    "sabine.roth",
    "thomas.klein",
    "lena.schulz",
]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_releases_give_exactly_one(demo_bank: Any) -> None:
    users = get_user_model().objects
    anna = users.get(username="anna.schmidt")
    case = do_start_case(Actor(anna), "payment-release", payment("900.00"), submit=True)
    case = case.raise_if_denied()
    barrier = threading.Barrier(len(RELEASERS))
    outcomes: list[str] = []
    lock = threading.Lock()

    def release(username: str) -> None:
        user = users.get(username=username)
        barrier.wait()
        try:
            outcome = do_command_by_id(Actor(user), case.pk, Command(CommandKind.RELEASE))
            result = outcome.denied.code if outcome.denied else "released"
        finally:
            connection.close()  # each thread had its own connection
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=release, args=(u,)) for u in RELEASERS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count("released") == 1
    assert set(outcomes) - {"released"} <= {"case.wrong_state"}
    assert CaseEvent.objects.filter(case=case, kind="released").count() == 1
    assert CaseEvent.objects.filter(case=case, kind="approved").count() == 1
    assert CaseEvent.objects.filter(case=case, kind="denied").count() == 7
    assert Case.objects.get(pk=case.pk).status == "released"
    seqs = list(CaseEvent.objects.filter(case=case).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    # the audit chain stayed linear under the race
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("seq"):
        assert event.prev_hash == previous and event.hash == event_hash(event.to_chained())
        previous = event.hash
