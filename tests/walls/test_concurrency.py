"""Two reads of competitors' data by one person at the same moment: exactly one succeeds."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from backoffice.audit.models import AuditEvent
from backoffice.base.actor import Actor
from backoffice.core.errors import DomainError
from backoffice.core.walls import Kind
from backoffice.walls.models import AccessRecord
from backoffice.walls.services import access_document_by_id, do_create_document

BANKS = ["nordbank", "rheinbank", "hansebank", "nordbank", "rheinbank", "hansebank"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_reads_never_put_two_competitors_into_one_history(demo_bank: Any) -> None:
    users = get_user_model().objects
    clara = users.get(username="clara.vogel")
    documents = {
        bank: do_create_document(
            Actor(clara),
            issuer=bank,
            area="private-side",
            kind=Kind.CONFIDENTIAL,
            title=bank,
            body="…",
        ).pk
        for bank in set(BANKS)
    }
    barrier = threading.Barrier(len(BANKS))
    outcomes: list[str] = []
    lock = threading.Lock()

    def read(bank: str) -> None:
        jan = users.get(username="jan.schmitt")
        barrier.wait()
        try:
            access_document_by_id(Actor(jan), documents[bank])
            result = bank
        except DomainError as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=read, args=(bank,)) for bank in BANKS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    allowed = {o for o in outcomes if not o.startswith("wall.")}
    assert len(allowed) == 1, outcomes  # the first read in the class decided the side
    # #13: a conflict answers like a missing document; the record says why
    assert set(outcomes) - allowed == {"wall.not_found"}
    refused = AuditEvent.objects.filter(action="walls.access_denied", actor="jan.schmitt")
    assert [e.after["code"] for e in refused] == ["wall.conflict"] * outcomes.count(
        "wall.not_found"
    )
    history = AccessRecord.objects.filter(user__username="jan.schmitt")
    assert list(history.values_list("issuer__key", flat=True)) == list(allowed)
