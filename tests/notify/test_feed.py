"""#18 ``GET /api/v1/events?after=CURSOR``: the outbox for systems that poll."""

from __future__ import annotations

from typing import Any

from tests.cases.conftest import payment


def _types(answer: dict[str, Any]) -> list[tuple[str, int]]:
    return [
        (e["type"], e["data"].get("case"))
        for e in answer["events"]
        if e["type"].startswith("case.")
    ]


def test_a_poller_reads_the_events_in_order_page_by_page(person: Any) -> None:
    anna, lena = person("anna.schmidt"), person("lena.schulz")
    case_id = anna.start("payment-release", payment()).json()["id"]
    first = lena.get("/events?limit=200").json()
    assert ("case.submitted", case_id) in _types(first)
    assert lena.act(case_id, "release").status_code == 200
    later = lena.get(f"/events?after={first['cursor']}").json()
    assert _types(later) == [("case.approved", case_id), ("case.released", case_id)]
    assert lena.get(f"/events?after={later['cursor']}").json()["events"] == []
    ids = [e["id"] for e in lena.get("/events?limit=200").json()["events"]]
    assert ids == sorted(ids)
    paged = lena.get("/events?limit=1")
    assert 'rel="next"' in paged["Link"]


def test_the_feed_shows_no_case_the_reader_may_not_see(person: Any) -> None:
    case_id = person("anna.schmidt").start("payment-release", payment()).json()["id"]
    answer = person("jan.schmitt").get("/events?limit=200").json()
    assert case_id not in {e["data"].get("case") for e in answer["events"]}


def test_a_bad_cursor_is_bad_input(person: Any) -> None:
    assert person("lena.schulz").get("/events?after=nonsense").status_code == 422


def test_the_outbox_commits_with_the_change_or_not_at_all(demo_bank: Any) -> None:
    """The outbox row and its task are written in the transaction of the audit event."""
    import pytest
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from backoffice.audit.services import record
    from backoffice.notify.models import OutboxEvent

    def counts() -> tuple[int, int]:
        return OutboxEvent.objects.count(), DBTaskResult.objects.count()

    before = counts()
    with pytest.raises(RuntimeError), transaction.atomic():
        record("access.emergency.started", actor="x", object_type="emergency", object_id=7)
        assert counts() == (before[0] + 1, before[1] + 1)
        raise RuntimeError("the change fails")
    assert counts() == before
    with transaction.atomic():
        record("access.emergency.started", actor="x", object_type="emergency", object_id=8)
    assert counts() == (before[0] + 1, before[1] + 1)
    assert OutboxEvent.objects.latest("pk").type == "emergency.started"
