"""The demo bank's walls through the API: deal mandates, crossings, lists, documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.cases.conftest import Person

People = Callable[[str], Person]


@pytest.fixture
def person(demo_bank: Any) -> People:
    return Person


def released(response: Any, releaser: Person) -> dict[str, Any]:
    """Release the case a start answered with; assert both worked."""
    assert response.status_code == 201, response.content
    done = releaser.act(response.json()["id"], "release")
    assert done.status_code == 200, done.content
    body: dict[str, Any] = done.json()
    assert body["status"] == "released", body
    return body


def mandate_payload(issuer: str = "nordbank", project: str = "Project Falcon") -> dict[str, Any]:
    return {
        "project": project,
        "issuer": issuer,
        "mandate": "underwriting",
        "description": "Capital increase, bookrunner",
    }


def open_project(
    person: People,
    issuer: str = "nordbank",
    project: str = "Project Falcon",
    maker: str = "jan.schmitt",
    approver: str = "clara.vogel",
) -> dict[str, Any]:
    """A mandate entered on the private side and cleared by compliance: the deal case."""
    return released(
        person(maker).start("deal-mandate", mandate_payload(issuer, project)), person(approver)
    )


def crossing_payload(who: str, project: str = "project-falcon", days: int = 10) -> dict[str, Any]:
    return {"person": who, "project": project, "days": days, "reason": "valuation of the bank"}


def cross(
    person: People,
    who: str,
    project: str = "project-falcon",
    requester: str = "jan.schmitt",
    approver: str = "paula.schwarz",
    days: int = 10,
) -> dict[str, Any]:
    return released(
        person(requester).start("wall-crossing", crossing_payload(who, project, days)),
        person(approver),
    )
