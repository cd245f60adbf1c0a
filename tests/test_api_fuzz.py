"""Schemathesis against /api/v1/openapi.json: every operation, as several kinds of people.

No 5xx; every response matches the schema and its declared status codes; every error is
RFC 9457 problem+json. Bounded examples per operation so that CI stays quick.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.openapi import from_wsgi
from schemathesis.specs.openapi import checks

from backoffice.wsgi import application

schema = from_wsgi("/api/v1/openapi.json", application)

#: A maker, a checker, an auditor and someone who may see little: each example picks one.
#: (Anonymous callers are refused on every operation: tests/test_authorisation_matrix.py.)
ROLES = ["anna.schmidt", "maria.keller", "martin.jung", "tim.hartmann"]
EXAMPLES = int(os.environ.get("BACKOFFICE_FUZZ_EXAMPLES", "25"))


@schemathesis.check
def problem_json(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx answer is problem+json with our stable code."""
    if response.status_code >= 400:
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        assert content_type[0].startswith("application/problem+json"), (
            f"{response.status_code} without problem+json"
        )
        body = response.json()
        assert {"type", "title", "status", "detail", "code"} <= set(body)
        assert body["status"] == response.status_code
    return None


@pytest.fixture
def in_test_transaction() -> Any:
    """The WSGI app is called directly, not through Django's test client: keep Django from
    closing the test's connection (and its transaction) at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(demo_bank: Any, in_test_transaction: Any) -> dict[str, str]:
    from django.contrib.auth import get_user_model

    from backoffice.accounts.services import do_create_token
    from backoffice.cases.services import do_start_case
    from tests.cases.conftest import payment

    users = get_user_model().objects
    do_start_case("payment-release", payment(), users.get(username="anna.schmidt"), submit=True)
    return {u: do_create_token(users.get(username=u), name="fuzz", actor="test") for u in ROLES}


@schema.parametrize()
@schema.given(role=st.sampled_from(ROLES))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api(case: Any, tokens: dict[str, str], role: str) -> None:
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    case.call_and_validate(
        headers=headers,
        checks=[
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            problem_json,
        ],
    )
