"""The walls API: lists, projects and insider lists, crossings, refusals, CSV, documents."""

from __future__ import annotations

import csv
import io
from typing import Any

from backoffice.audit.models import AuditEvent
from backoffice.walls.models import AccessRecord, ListEntry
from tests.cases.conftest import problem
from tests.walls.conftest import People, cross, mandate_payload, open_project, released


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.getvalue().decode())))


def test_the_restricted_list_is_for_everyone_the_watch_list_for_compliance(
    person: People,
) -> None:
    open_project(person)  # Nordbank goes on the watch list, confidentially
    tim, clara = person("tim.hartmann"), person("clara.vogel")
    assert tim.get("/walls/restricted-list").json() == []
    problem(tim.get("/walls/watch-list"), 403, "wall.forbidden")
    problem(tim.get("/walls/watch-list.csv"), 403, "wall.forbidden")
    assert AuditEvent.objects.filter(action="walls.denied", actor="tim.hartmann").count() == 2
    [entry] = clara.get("/walls/watch-list").json()
    assert (entry["list"], entry["issuer"], entry["project"]) == (
        "watch",
        "nordbank",
        "project-falcon",
    )
    assert rows(clara.get("/walls/watch-list.csv"))[0]["reason"] == "confidential mandate"
    auditor = person("martin.jung")  # internal audit reads, compliance acts (CW-4: control)
    assert auditor.get("/walls/watch-list").json() == clara.get("/walls/watch-list").json()
    refused = auditor.post("/walls/watch-list", {"issuer": "autowerk", "reason": "x"})
    problem(refused, 403, "wall.forbidden")

    announced = clara.post("/walls/projects/project-falcon/announce", {"reason": "ad hoc release"})
    assert announced.json()["status"] == "public"
    assert [e["issuer"] for e in tim.get("/walls/restricted-list").json()] == ["nordbank"]
    assert rows(tim.get("/walls/restricted-list.csv"))[0]["issuer_name"] == "Nordbank AG"
    assert [e["list"] for e in clara.get("/walls/watch-list").json()] == ["restricted"]
    assert ListEntry.objects.get(kind="watch").until is not None  # history is kept
    problem(
        tim.post("/walls/projects/project-falcon/close", {"reason": "x"}), 403, "wall.forbidden"
    )

    closed = clara.post("/walls/projects/project-falcon/close", {"reason": "deal done"})
    assert closed.json()["status"] == "closed"
    [restricted] = clara.get("/walls/watch-list").json()  # stays until compliance lifts it
    problem(  # not alone: a restriction is lifted by two compliance officers
        clara.post(f"/walls/list-entries/{restricted['id']}/remove", {"reason": "period over"}),
        403,
        "wall.four_eyes_required",
    )
    lift = clara.start("restricted-list-lift", {"issuer": "nordbank", "reason": "period over"})
    assert lift.status_code == 201, lift.content
    problem(clara.act(lift.json()["id"], "release"), 403, "sod.self_approval")
    assert tim.get("/walls/restricted-list").json() != []
    lifted = person("paula.schwarz").act(lift.json()["id"], "release")
    assert lifted.json()["status"] == "released", lifted.content
    assert tim.get("/walls/restricted-list").json() == []
    again = clara.start("restricted-list-lift", {"issuer": "nordbank", "reason": "again"})
    problem(again, 404, "wall.not_found")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "walls.watch_list.added",
        "walls.watch_list.removed",
        "walls.restricted_list.added",
        "walls.restricted_list.removed",
        "walls.project.announced",
        "walls.project.closed",
    } <= actions


def test_insider_list_shows_who_since_when_why_and_how(person: People) -> None:
    open_project(person)
    clara = person("clara.vogel")
    added = clara.post(
        "/walls/projects/project-falcon/members",
        {"person": "laura.lange", "reason": "advises on the structure"},
    )
    assert added.status_code == 201, added.content
    problem(
        clara.post(
            "/walls/projects/project-falcon/members", {"person": "tim.hartmann", "reason": "x"}
        ),
        403,
        "wall.not_inside",  # research joins only through a crossing
    )
    cross(person, "tim.hartmann")
    insiders = clara.get("/walls/projects/project-falcon/insiders").json()
    assert [(i["person"], i["how"], i["active"]) for i in insiders] == [
        ("jan.schmitt", "member", True),
        ("laura.lange", "member", True),
        ("tim.hartmann", "crossing", True),
    ]
    assert insiders[2]["reason"] == "valuation of the bank"
    assert insiders[2]["approved_by"] == "paula.schwarz"
    csv_rows = rows(clara.get("/walls/projects/project-falcon/insiders.csv"))
    assert [r["person"] for r in csv_rows] == ["jan.schmitt", "laura.lange", "tim.hartmann"]
    assert set(csv_rows[0]) == {
        "person", "name", "how", "since", "until", "reason", "approved_by", "active"
    }  # fmt: skip
    [project] = clara.get("/walls/projects").json()
    assert (project["key"], project["insiders_now"]) == ("project-falcon", 3)
    problem(person("jan.schmitt").get("/walls/projects"), 403, "wall.forbidden")

    clara.post("/walls/projects/project-falcon/close", {"reason": "mandate ended"})
    insiders = clara.get("/walls/projects/project-falcon/insiders").json()
    assert not any(i["active"] for i in insiders) and all(i["until"] for i in insiders)


def test_compliance_ends_a_crossing_early_and_the_reports_show_it(person: People) -> None:
    deal = open_project(person)
    cross(person, "tim.hartmann")
    tim, clara = person("tim.hartmann"), person("clara.vogel")
    [running] = clara.get("/walls/crossings").json()
    assert (running["person"], running["state"], running["requested_by"]) == (
        "tim.hartmann",
        "active",
        "jan.schmitt",
    )
    problem(
        tim.post(f"/walls/crossings/{running['id']}/end", {"reason": "x"}), 403, "wall.forbidden"
    )
    ended = clara.post(f"/walls/crossings/{running['id']}/end", {"reason": "valuation done"})
    assert ended.json()["state"] == "ended"
    problem(tim.get(f"/cases/{deal['id']}"), 404, "case.not_found")  # #13: like a missing one
    assert rows(clara.get("/walls/crossings.csv"))[0]["end_reason"] == "valuation done"
    denials = clara.get("/walls/denials").json()
    assert [(d["actor"], d["code"]) for d in denials[:2]] == [
        ("tim.hartmann", "wall.not_inside"),
        ("tim.hartmann", "wall.forbidden"),
    ]
    assert rows(clara.get("/walls/denials.csv"))[0]["object"] == f"case:{deal['id']}"
    problem(tim.get("/walls/denials"), 403, "wall.forbidden")


def test_walled_cases_are_hidden_from_lists_and_the_inbox_outside_the_wall(
    person: People,
) -> None:
    request = person("jan.schmitt").start("deal-mandate", mandate_payload())
    case_id = request.json()["id"]
    assert [c["id"] for c in person("clara.vogel").get("/cases?actionable=true").json()["items"]]
    for outside in ("tim.hartmann", "niklas.wolf", "anna.schmidt"):
        assert case_id not in [c["id"] for c in person(outside).get("/cases").json()["items"]]
    # internal audit and compliance are control: they see behind every wall
    assert case_id in [c["id"] for c in person("martin.jung").get("/cases").json()["items"]]
    assert person("jan.schmitt").get(f"/cases/{case_id}").status_code == 200


def test_the_maker_cannot_amend_a_mandate_to_a_competitor(person: People) -> None:
    jan = person("jan.schmitt")
    draft = jan.start("deal-mandate", mandate_payload(), submit=False).json()
    problem(
        jan.patch(f"/cases/{draft['id']}", {"payload": mandate_payload("rheinbank")}),
        403,
        "wall.conflict",
    )
    amended = jan.patch(f"/cases/{draft['id']}", {"payload": mandate_payload("autowerk")})
    assert amended.status_code == 200 and amended.json()["payload"]["issuer"] == "autowerk"
    assert sorted(AccessRecord.objects.values_list("issuer__key", flat=True)) == [
        "autowerk",
        "nordbank",
    ]


def test_only_compliance_resets_a_brewer_nash_history_and_it_is_on_record(
    person: People,
) -> None:
    laura = person("laura.lange")
    open_project(person, "nordbank", maker="laura.lange")
    problem(
        laura.start("deal-mandate", mandate_payload("rheinbank", "Heron")), 403, "wall.conflict"
    )
    body = {"conflict_class": "banks", "reason": "left the Nordbank deal team"}
    problem(laura.post("/walls/histories/laura.lange/reset", body), 403, "wall.forbidden")
    reset = person("clara.vogel").post("/walls/histories/laura.lange/reset", body)
    assert reset.json() == {"person": "laura.lange", "conflict_class": "banks", "reset": 1}
    open_project(person, "rheinbank", "Project Heron", maker="laura.lange")
    event = AuditEvent.objects.get(action="walls.history.reset")
    assert (event.actor, event.before["issuers"]) == ("clara.vogel", ["nordbank"])
    problem(
        person("clara.vogel").post(
            "/walls/histories/laura.lange/reset", {"conflict_class": "car-makers", "reason": "x"}
        ),
        404,
        "wall.not_found",
    )


def test_a_cleared_trade_in_a_watch_listed_issuer_alerts_compliance_only(person: People) -> None:
    open_project(person)
    niklas = person("niklas.wolf")
    trade = niklas.start("personal-trade", {"issuer": "nordbank", "side": "buy", "quantity": 50})
    done = released(trade, person("paula.schwarz"))
    assert "watch" not in str(done).lower()  # the trader never learns of the watch list
    hit = AuditEvent.objects.get(action="walls.watch_list.hit")
    assert (hit.object_id, hit.after["trader"]) == ("nordbank", "niklas.wolf")


def test_released_research_becomes_a_public_document_everyone_reads(person: People) -> None:
    note = person("lisa.neumann").start(
        "research-publication",
        {"issuer": "hansebank", "headline": "Hanse: solid", "rating": "hold", "summary": "…"},
    )
    problem(person("jan.schmitt").get(f"/cases/{note.json()['id']}"), 404, "case.not_found")
    released(note, person("tim.hartmann"))
    niklas = person("niklas.wolf")
    [listed] = niklas.get("/walls/documents").json()
    assert (listed["kind"], listed["area"], listed["title"]) == (
        "public",
        "research",
        "Hanse: solid",
    )
    assert niklas.get(f"/walls/documents/{listed['id']}").json()["body"].startswith("HOLD")
    assert not AccessRecord.objects.exists()  # public reads make no history


def test_documents_are_filed_from_inside_their_area_only(person: People) -> None:
    body = {"issuer": "nordbank", "area": "private-side", "kind": "confidential", "title": "T"}
    problem(
        person("tim.hartmann").post("/walls/documents", body | {"body": "…"}),
        403,
        "wall.not_inside",
    )
    jan = person("jan.schmitt")
    assert jan.post("/walls/documents", body | {"body": "…"}).status_code == 201
    problem(
        jan.post("/walls/documents", body | {"issuer": "autowerk", "body": "…"}),
        403,
        "wall.conflict",  # the *-property: Nordbank's secrets could flow into Autowerk's file
    )
    problem(
        jan.post("/walls/documents", body | {"area": "nowhere", "body": "…"}), 422, "wall.invalid"
    )
    assert AuditEvent.objects.filter(action="walls.access_denied", actor="tim.hartmann").exists()


def test_issuers_and_the_openapi_document(person: People) -> None:
    issuers = person("tim.hartmann").get("/walls/issuers").json()
    assert {(i["key"], i["conflict_class"]) for i in issuers} >= {
        ("nordbank", "banks"),
        ("autowerk", "car-makers"),
    }
    paths = person("tim.hartmann").get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/walls/watch-list",
        "/api/v1/walls/restricted-list",
        "/api/v1/walls/restricted-list.csv",
        "/api/v1/walls/projects/{key}/insiders",
        "/api/v1/walls/projects/{key}/insiders.csv",
        "/api/v1/walls/crossings",
        "/api/v1/walls/crossings.csv",
        "/api/v1/walls/denials",
        "/api/v1/walls/documents/{document_id}",
    ):
        assert path in paths, path
    assert "text/csv" in paths["/api/v1/walls/crossings.csv"]["get"]["responses"]["200"]["content"]
