"""The API's ground rules: authentication, problem+json, OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from backoffice.accounts.services import do_create_token
from backoffice.audit.models import AuditEvent
from backoffice.base.actor import cli_actor


def test_anonymous_gets_401_problem_json(demo_bank: Any, client: Any) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "auth.required" and body["status"] == 401
    assert body["instance"] == "/api/v1/me"


def test_me_with_a_bearer_token(demo_bank: Any, client: Any) -> None:
    anna = get_user_model().objects.get(username="anna.schmidt")
    token = do_create_token(anna, name="test", actor=cli_actor())
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    me = response.json()
    assert me["username"] == "anna.schmidt"
    assert me["lines"] == ["market"] and me["units"] == ["corporate-clients"]
    assert "credit-officer" in me["roles"] and "payment.enter" in me["permissions"]
    assert me["competence"] == {"amount": "5000000.00", "currency": "EUR"}
    assert me["board_member"] is False
    event = AuditEvent.objects.get(action="accounts.token.created")
    assert token not in str(event.after)


def test_a_wrong_or_revoked_token_is_refused(demo_bank: Any, client: Any) -> None:
    from backoffice.accounts.models import ApiToken
    from backoffice.accounts.services import do_revoke_token

    anna = get_user_model().objects.get(username="anna.schmidt")
    token = do_create_token(anna, name="test", actor="test")
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer bo_nope"}).status_code == 401
    do_revoke_token(ApiToken.objects.get(user=anna), actor="test")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_board_member_and_session_auth(demo_bank: Any, login: Any) -> None:
    me = login("sabine.roth").get("/api/v1/me").json()
    assert me["board_member"] is True and me["lines"] == ["management"]


@pytest.mark.django_db
def test_openapi_document_is_published(client: Any) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["info"]["title"] == "Backoffice API"
    assert "/api/v1/me" in spec["paths"]
