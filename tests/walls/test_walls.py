"""Chinese walls through the API, as the demo bank's people: the specification of #8."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.walls.models import AccessRecord, WallCrossing
from tests.cases.conftest import problem
from tests.walls.conftest import People, cross, crossing_payload, mandate_payload, open_project


def _expire_crossings_of(username: str) -> None:
    """Time passes: the crossing's end lies in the past (no clock is read by the test)."""
    now = timezone.now()
    WallCrossing.objects.filter(user__username=username).update(
        valid_from=now - timedelta(days=11), valid_to=now - timedelta(seconds=1)
    )


def test_an_analyst_cannot_open_the_underwriting_case_of_an_issuer_until_crossed_over(
    person: People,
) -> None:
    deal = open_project(person)
    tim = person("tim.hartmann")  # research: on the other side of the wall
    body = problem(tim.get(f"/cases/{deal['id']}"), 404, "case.not_found")
    # #13: answered like a missing case; the issuer, the area and the case's existence stay behind
    assert body["detail"] == f"There is no case {deal['id']} that you may see."
    refused = AuditEvent.objects.get(action="walls.access_denied", actor="tim.hartmann")
    assert refused.object_id == str(deal["id"]) and refused.after["issuer"] == "nordbank"
    assert refused.after["code"] == "wall.not_inside"  # compliance sees who tried what
    assert deal["id"] not in [c["id"] for c in tim.get("/cases").json()["items"]]

    crossing = cross(person, "tim.hartmann")
    assert crossing["status"] == "released"
    opened = tim.get(f"/cases/{deal['id']}")
    assert opened.status_code == 200 and opened.json()["payload"]["issuer"] == "nordbank"
    assert deal["id"] in [c["id"] for c in tim.get("/cases").json()["items"]]
    started = AuditEvent.objects.get(action="walls.crossing.started")
    assert started.after["person"] == "tim.hartmann" and started.actor == "paula.schwarz"

    _expire_crossings_of("tim.hartmann")
    problem(tim.get(f"/cases/{deal['id']}"), 404, "case.not_found")
    call_command("walls", "expire", stdout=open("/dev/null", "w"))  # noqa: SIM115
    ended = AuditEvent.objects.get(action="walls.crossing.ended")
    assert ended.after["person"] == "tim.hartmann" and ended.reason == "expired"


def test_a_compliance_officer_cannot_approve_their_own_crossing_request(person: People) -> None:
    open_project(person)
    clara = person("clara.vogel")
    request = clara.start("wall-crossing", crossing_payload("tim.hartmann")).json()
    problem(clara.act(request["id"], "release"), 403, "sod.self_approval")
    assert not WallCrossing.objects.exists()
    assert person("paula.schwarz").act(request["id"], "release").json()["status"] == "released"
    crossing = WallCrossing.objects.get()
    assert (crossing.requested_by, crossing.approved_by) == ("clara.vogel", "paula.schwarz")


def test_only_compliance_approves_a_crossing_and_only_for_someone_outside(
    person: People,
) -> None:
    open_project(person)
    request = person("jan.schmitt").start("wall-crossing", crossing_payload("tim.hartmann"))
    auditor = person("martin.jung")  # reads every case, approves none
    problem(auditor.act(request.json()["id"], "release"), 403, "step.not_eligible")
    # compliance reads behind every wall already; a deal team member is inside it
    for who in ("clara.vogel", "laura.lange"):
        refused = person("jan.schmitt").start("wall-crossing", crossing_payload(who))
        problem(refused, 422, "wall.crossing_unneeded")


def test_brewer_nash_after_one_bank_a_competitor_is_refused_another_class_is_not(
    person: People,
) -> None:
    clara = person("clara.vogel")  # control files documents on every side, bound to none

    def document(issuer: str, kind: str = "confidential") -> int:
        body = {"issuer": issuer, "area": "private-side", "kind": kind, "title": "DD", "body": "…"}
        response = clara.post("/walls/documents", body)
        assert response.status_code == 201, response.content
        return int(response.json()["id"])

    nord, rhein, auto = document("nordbank"), document("rheinbank"), document("autowerk")
    rhein_public = document("rheinbank", "public")
    jan = person("jan.schmitt")  # underwriting: inside the private side
    assert jan.get(f"/walls/documents/{nord}").status_code == 200
    body = problem(jan.get(f"/walls/documents/{rhein}"), 404, "wall.not_found")
    # #13: a conflict would name the document's issuer; it answers like a missing document
    assert body["detail"] == f"There is no document {rhein} you may read."
    assert jan.get(f"/walls/documents/{auto}").status_code == 200  # another class
    assert jan.get(f"/walls/documents/{nord}").status_code == 200  # the same dataset again
    assert jan.get(f"/walls/documents/{rhein_public}").status_code == 200  # public data
    history = AccessRecord.objects.filter(user__username="jan.schmitt")
    assert sorted(history.values_list("issuer__key", flat=True)) == ["autowerk", "nordbank"]
    listed = [d["id"] for d in jan.get("/walls/documents").json()]
    assert rhein not in listed and {nord, auto, rhein_public} <= set(listed)
    refused = AuditEvent.objects.get(
        action="walls.access_denied", actor="jan.schmitt", after__code="wall.conflict"
    )
    assert "Rheinische Handelsbank AG" in refused.after["message"]  # in full, on record


def test_brewer_nash_binds_the_maker_of_a_mandate(person: People) -> None:
    laura = person("laura.lange")
    open_project(person, "nordbank", "Project Falcon", maker="laura.lange")
    refused = laura.start("deal-mandate", mandate_payload("rheinbank", "Project Heron"))
    problem(refused, 403, "wall.conflict")
    assert AuditEvent.objects.filter(action="case.start_denied", after__code="wall.conflict")
    open_project(person, "autowerk", "Project Piston", maker="laura.lange")


def test_a_research_publication_on_a_restricted_issuer_is_refused(person: People) -> None:
    lisa, tim, clara = person("lisa.neumann"), person("tim.hartmann"), person("clara.vogel")
    note = lisa.start(
        "research-publication",
        {"issuer": "autowerk", "headline": "Margins recover", "rating": "buy", "summary": "…"},
    ).json()
    assert note["status"] == "submitted"
    listed = clara.post("/walls/restricted-list", {"issuer": "autowerk", "reason": "IPO soon"})
    assert listed.status_code == 201
    problem(tim.act(note["id"], "release"), 403, "wall.restricted")
    assert Case.objects.get(pk=note["id"]).status == "submitted"
    assert AuditEvent.objects.filter(action="case.denied", after__code="wall.restricted").exists()
