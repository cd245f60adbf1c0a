"""Every refusal code of the walls, reached through the API; the table is the specification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from backoffice.audit.models import AuditEvent
from backoffice.core.walls import WALL_DENIAL_CODES
from tests.cases.conftest import problem
from tests.walls.conftest import People, cross, crossing_payload, mandate_payload, open_project


def not_inside(p: People) -> Any:
    # research files nothing on the private side (reading a walled case answers like a
    # missing one, #13: see test_leaks.py)
    body = {"issuer": "nordbank", "area": "private-side", "kind": "confidential", "title": "T"}
    return p("tim.hartmann").post("/walls/documents", body | {"body": "…"})


def conflict(p: People) -> Any:
    open_project(p, "nordbank", maker="laura.lange")
    return p("laura.lange").start("deal-mandate", mandate_payload("hansebank", "Project Heron"))


def restricted(p: People) -> Any:
    p("clara.vogel").post("/walls/restricted-list", {"issuer": "motorenbau", "reason": "IPO"})
    return p("niklas.wolf").start(
        "proprietary-trade", {"issuer": "motorenbau", "side": "buy", "quantity": 1000}
    )


def crossing_unneeded(p: People) -> Any:
    open_project(p)
    return p("jan.schmitt").start("wall-crossing", crossing_payload("laura.lange"))


def crossing_refused(p: People) -> Any:
    open_project(p)
    cross(p, "tim.hartmann")  # a second crossing for Tim: his position is his to know (#13)
    return p("jan.schmitt").start("wall-crossing", crossing_payload("tim.hartmann"))


def crossing_too_long(p: People) -> Any:
    open_project(p)
    return p("jan.schmitt").start("wall-crossing", crossing_payload("tim.hartmann", days=31))


def project_closed(p: People) -> Any:
    open_project(p)
    p("clara.vogel").post("/walls/projects/project-falcon/close", {"reason": "mandate lost"})
    return p("jan.schmitt").start("wall-crossing", crossing_payload("tim.hartmann"))


def project_exists(p: People) -> Any:
    open_project(p)
    return p("laura.lange").start("deal-mandate", mandate_payload("autowerk", "Project Falcon"))


def unknown_issuer(p: People) -> Any:
    return p("jan.schmitt").start("deal-mandate", mandate_payload("acme", "Project Acme"))


def unknown_project(p: People) -> Any:
    return p("jan.schmitt").start("wall-crossing", crossing_payload("tim.hartmann", "project-x"))


def invalid(p: People) -> Any:
    return p("clara.vogel").post("/walls/watch-list", {"issuer": "nordbank", "reason": " "})


def four_eyes_required(p: People) -> Any:
    clara = p("clara.vogel")
    entry = clara.post("/walls/restricted-list", {"issuer": "motorenbau", "reason": "IPO"}).json()
    return clara.post(f"/walls/list-entries/{entry['id']}/remove", {"reason": "IPO done"})


def forbidden(p: People) -> Any:
    return p("tim.hartmann").get("/walls/watch-list")


def not_found(p: People) -> Any:
    return p("tim.hartmann").get("/walls/documents/999999")


DENIALS: list[tuple[str, int, Callable[[People], Any]]] = [
    ("wall.not_inside", 403, not_inside),
    ("wall.conflict", 403, conflict),
    ("wall.restricted", 403, restricted),
    ("wall.crossing_unneeded", 422, crossing_unneeded),
    ("wall.crossing_refused", 422, crossing_refused),
    ("wall.crossing_too_long", 422, crossing_too_long),
    ("wall.project_closed", 409, project_closed),
    ("wall.project_exists", 409, project_exists),
    ("wall.unknown_issuer", 422, unknown_issuer),
    ("wall.unknown_project", 422, unknown_project),
    ("wall.invalid", 422, invalid),
    ("wall.forbidden", 403, forbidden),
    ("wall.four_eyes_required", 403, four_eyes_required),
    ("wall.not_found", 404, not_found),
]

#: Refusals of bad input are answered, not recorded; every refused read or action is.
NOT_RECORDED = {"wall.invalid", "wall.not_found"}


def test_every_code_of_the_walls_is_reached_through_the_api() -> None:
    assert {code for code, _, _ in DENIALS} == set(WALL_DENIAL_CODES)


@pytest.mark.parametrize(("code", "status", "scenario"), DENIALS, ids=[d[0] for d in DENIALS])
def test_denial(person: People, code: str, status: int, scenario: Callable[[People], Any]) -> None:
    body = problem(scenario(person), status, code)
    assert body["detail"] and body["type"] == f"urn:backoffice:problem:{code}"
    recorded = AuditEvent.objects.filter(after__code=code).exists() or (
        code == "wall.forbidden" and AuditEvent.objects.filter(action="walls.denied").exists()
    )
    assert recorded == (code not in NOT_RECORDED)
