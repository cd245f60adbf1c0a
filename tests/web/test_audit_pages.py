"""The audit trail in the browser: for audit and compliance only, filterable, verifiable."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.audit.models import AuditEvent
from tests.web.test_pages import as_user, start


def events_of(page: str) -> str:
    """The events table of the audit page, without the filter (#19: its action select
    lists every action on the trail)."""
    return page.split('id="audit-events"', 1)[1]


def test_the_auditor_browses_filters_and_verifies(demo_bank: Any) -> None:
    case = start()
    auditor = as_user("martin.jung")
    page = auditor.get("/audit/").content.decode()
    assert "Audit trail" in page and "case.submitted" in events_of(page)
    filtered = auditor.get(f"/audit/?object_type=case&object_id={case.pk}").content.decode()
    filtered = events_of(filtered)
    assert "case.started" in filtered and "org.unit.created" not in filtered
    verified = auditor.post("/audit/verify/").content.decode()
    assert "Intact:" in verified and "events verified" in verified


def test_others_are_refused_and_the_refusal_is_on_record(demo_bank: Any) -> None:
    response = as_user("anna.schmidt").get("/audit/")
    assert response.status_code == 403 and b"audit.forbidden" in response.content
    assert AuditEvent.objects.filter(action="audit.denied", actor="anna.schmidt").exists()
    assert b'href="/audit/"' not in as_user("anna.schmidt").get("/").content


def test_audit_list_queries_do_not_grow_with_the_rows(demo_bank: Any) -> None:
    auditor = as_user("martin.jung")
    auditor.get("/audit/?object_type=case")
    start()
    with CaptureQueriesContext(connection) as few:
        auditor.get("/audit/?object_type=case")
    for i in range(10):
        start(amount=f"{200 + i}.00")
    with CaptureQueriesContext(connection) as many:
        page = events_of(auditor.get("/audit/?object_type=case").content.decode())
    assert page.count("case.submitted") == 11
    assert len(many) == len(few)
