"""#4: ``GET /api/v1/audit`` and ``/audit/verify``, for internal audit and compliance only."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction

from backoffice.audit.models import AuditEvent
from backoffice.audit.services import do_checkpoint, record
from tests.audit.conftest import attacker


def test_the_auditor_pages_through_the_whole_log_by_cursor(demo_bank: Any, login: Any) -> None:
    client = login("martin.jung")  # the login itself is event #N+1
    total = AuditEvent.objects.count()
    seen: list[int] = []
    after = None
    for _ in range(10):
        query = {"limit": 50} | ({"after": after} if after is not None else {})
        response = client.get("/api/v1/audit", query)
        assert response.status_code == 200, response.content
        page = response.json()
        seen += [item["seq"] for item in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == list(range(1, total + 1))
    last = AuditEvent.objects.get(seq=total)
    assert (last.action, last.actor) == ("auth.login", "martin.jung")


def test_filters_narrow_the_log(demo_bank: Any, login: Any) -> None:
    with transaction.atomic():
        record(
            "case.denied",
            actor="anna.schmidt",
            object_type="case",
            object_id=7,
            reason="sod.self_approval",
        )
    client = login("clara.vogel")
    items = client.get("/api/v1/audit", {"object_type": "case", "object_id": "7"}).json()["items"]
    assert [(i["action"], i["actor"], i["reason"]) for i in items] == [
        ("case.denied", "anna.schmidt", "sod.self_approval")
    ]
    units = client.get("/api/v1/audit", {"action": "org.unit.created", "limit": 1000}).json()
    assert len(units["items"]) == 24 and units["next"] is None  # the demo bank's units
    first = AuditEvent.objects.get(seq=1).at
    assert client.get("/api/v1/audit", {"until": first.isoformat()}).json()["items"] == []
    since = client.get("/api/v1/audit", {"since": first.isoformat(), "limit": 1}).json()
    assert since["items"][0]["seq"] == 1 and since["next"] == 1


def test_people_without_an_audit_role_are_refused_and_the_refusal_is_recorded(
    demo_bank: Any, login: Any
) -> None:
    client = login("anna.schmidt")
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        response = client.get(path)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "audit.forbidden"
    denied = AuditEvent.objects.filter(action="audit.denied")
    assert [(e.actor, e.object_id) for e in denied] == [("anna.schmidt", "audit.read")] * 2


def test_anonymous_callers_get_401(demo_bank: Any, client: Any) -> None:
    assert client.get("/api/v1/audit").status_code == 401
    assert client.get("/api/v1/audit/verify").status_code == 401


def test_verify_reports_ok_then_names_the_tampering(
    demo_bank: Any, login: Any, signing_key: Ed25519PrivateKey
) -> None:
    do_checkpoint(signing_key, actor="test")
    client = login("martin.jung")
    report = client.get("/api/v1/audit/verify").json()
    head = AuditEvent.objects.order_by("-seq").first()
    assert head is not None
    assert report["ok"] is True and report["problem"] is None and report["checkpoints"] == 1
    assert (report["events"], report["head_hash"]) == (head.seq, head.hash)
    with attacker() as sql:
        sql("DELETE FROM audit_auditevent WHERE seq = 3")
    report = client.get("/api/v1/audit/verify").json()
    assert report["ok"] is False
    assert report["problem"] == {
        "kind": "missing",
        "seq": 3,
        "message": "#3 deleted: the log jumps from #2 to #4",
    }


def test_the_audit_operations_are_in_the_openapi_document(client: Any, db: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/audit", "/api/v1/audit/verify"} <= set(paths)
    assert "403" in paths["/api/v1/audit"]["get"]["responses"]
