"""People of the demo bank acting through the API, each with their own session."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from backoffice.base.actor import Actor

Api = Callable[..., Any]


class Person:
    """A logged-in person of the demo bank, speaking to the REST API."""

    def __init__(self, username: str) -> None:
        self.username = username
        self.client = Client()
        self.client.force_login(get_user_model().objects.get(username=username))

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1{path}")

    def post(self, path: str, body: dict[str, Any], **headers: str) -> Any:
        return self.client.post(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers
        )

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.patch(
            f"/api/v1{path}", json.dumps(body), content_type="application/json"
        )

    def start(self, process: str, payload: dict[str, Any], *, submit: bool = True) -> Any:
        return self.post("/cases", {"process": process, "payload": payload, "submit": submit})

    def act(self, case_id: int, action: str, **body: Any) -> Any:
        return self.post(f"/cases/{case_id}/actions", {"action": action, **body})


@pytest.fixture
def person(demo_bank: Any) -> Callable[[str], Person]:
    return Person


def payment(amount: str = "2500.00", **extra: Any) -> dict[str, Any]:
    return {
        "creditor": "ACME Maschinenbau GmbH",
        "iban": "DE89 3704 0044 0532 0130 00",
        "amount": {"amount": amount, "currency": "EUR"},
        "value_date": "2026-12-01",
        "purpose": "Invoice 2026-4711",
    } | extra


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem with our code, and return its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def submit_together(case_ids: list[int], user: Any) -> list[str]:
    """Submit the cases from one thread each, released together by a barrier (PostgreSQL
    race tests); returns each outcome ('submitted' or the denial code)."""
    from backoffice.cases.services import do_command_by_id
    from backoffice.core.four_eyes import Command, CommandKind

    barrier = threading.Barrier(len(case_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(case_id: int) -> None:
        barrier.wait()
        try:
            outcome = do_command_by_id(Actor(user), case_id, Command(CommandKind.SUBMIT))
            result = outcome.denied.code if outcome.denied else "submitted"
        finally:
            connection.close()  # each thread had its own connection
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=submit, args=(c,)) for c in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
