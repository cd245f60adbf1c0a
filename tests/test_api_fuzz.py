"""Schemathesis against /api/v1/openapi.json: every operation, as several kinds of people.

No 5xx; every response matches the schema and its declared status codes; every error is
RFC 9457 problem+json. Bounded examples per operation so that CI stays quick.

Text that cannot be stored (#13: a lone surrogate ``"\\ud800"``, a NUL ``"\\u0000"``) is
mixed into generated bodies and queries by hooks, and tried on every operation's every
parameter and body field by ``test_every_text_input_refuses_unstorable_text``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.openapi import from_wsgi
from schemathesis.specs.openapi import checks

from backoffice.base.actor import Actor
from backoffice.wsgi import application
from tests.cases.conftest import Person

schema = from_wsgi("/api/v1/openapi.json", application)

#: Text no column can take, as JSON strings carry it.
UNSTORABLE = ["\ud800", "\u0000"]

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


def _strings(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string inside a JSON value."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _replaced(value: Any, path: tuple[Any, ...], text: str) -> Any:
    if not path:
        return text
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], text)
    return copy


@schema.hook("flatmap_body")
def unstorable_body(ctx: Any, body: Any) -> Any:
    """Now and then, one string of a generated body becomes a surrogate or a NUL."""
    places = list(_strings(body)) if isinstance(body, dict | list) else []
    if not places:
        return st.just(body)
    spoiled = st.tuples(st.sampled_from(places), st.sampled_from(UNSTORABLE)).map(
        lambda choice: _replaced(body, choice[0], f"a{choice[1]}b")
    )
    return st.one_of(st.just(body), spoiled)


@schema.hook("flatmap_query")
def unstorable_query(ctx: Any, query: Any) -> Any:
    """Now and then, a query value gets a NUL (a URL cannot carry a lone surrogate)."""
    if not query:
        return st.just(query)
    spoiled = st.sampled_from(sorted(query)).map(lambda name: {**query, name: "a\u0000b"})
    return st.one_of(st.just(query), spoiled)


def _texts(value: Any) -> Iterator[str]:
    """Every string inside a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _carries_unstorable(case: Any) -> bool:
    """Whether the request as sent holds a NUL or a surrogate: anywhere in a JSON body; in a
    query name or a value sent as it is (the client sends other values by their ``repr``)."""
    texts = list(_texts(case.body if isinstance(case.body, dict | list) else None))
    for name, value in (case.query or {}).items():
        texts.append(str(name))
        items = value if isinstance(value, list) else [value]
        texts.extend(item for item in items if isinstance(item, str))
    return any(re.search("[\x00\ud800-\udfff]", text) for text in texts)


@schemathesis.check
def unstorable_text_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request that carries a surrogate or a NUL is refused as such, never a 5xx."""
    if _carries_unstorable(case):
        assert response.status_code == 400, f"{response.status_code} for unstorable text"
        assert response.json()["code"] == "input.invalid_text"
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
    do_start_case(
        Actor(users.get(username="anna.schmidt")), "payment-release", payment(), submit=True
    )
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
            unstorable_text_refused,
        ],
    )


# -- Every text input, both strings: an explicit sweep over the OpenAPI document (#13) -------


def _resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _types(document: dict[str, Any], node: dict[str, Any]) -> set[str]:
    node = _resolved(document, node)
    found = {node["type"]} if isinstance(node.get("type"), str) else set()
    for alternative in node.get("anyOf", []) + node.get("oneOf", []):
        found |= _types(document, alternative)
    return found


def _body_fields(
    document: dict[str, Any], operation: dict[str, Any]
) -> Iterator[tuple[list[str], Any]]:
    """(where the bad text sits, the body that puts it there) for each field of the body."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return
    body = _resolved(document, content["schema"])
    for name, field in body.get("properties", {}).items():
        kinds = _types(document, field)
        if "string" in kinds:
            yield ["body", name], lambda bad, name=name: {name: f"a{bad}b"}
        elif "object" in kinds:
            yield ["body", name, "k"], lambda bad, name=name: {name: {"k": f"a{bad}b"}}
        elif "array" in kinds:
            yield ["body", name, "0"], lambda bad, name=name: {name: [f"a{bad}b"]}


def _text_inputs() -> Iterator[tuple[str, str, str, Any, list[str]]]:
    """(label, method, url, body, where the bad text is) for every text input of the API."""
    from backoffice.urls import api  # the root with every router mounted

    document = api.get_openapi_schema()
    for path, item in sorted(document["paths"].items()):
        for method, operation in sorted(item.items()):
            parameters = operation.get("parameters", [])
            filled = {p["name"]: "1" for p in parameters if p["in"] == "path"}
            url = path.format(**filled)
            for parameter in parameters:
                name = parameter["name"]
                if parameter["in"] == "query":
                    for kind, raw in (("nul", "%00"), ("surrogate", "%ED%A0%80")):
                        label = f"{method} {path} ?{name} {kind}"
                        yield label, method, f"{url}?{name}=a{raw}b", None, ["query", name]
                elif parameter["in"] == "path":
                    bad = path.format(**(filled | {name: "a%00b"}))
                    yield f"{method} {path} {name}", method, bad, None, ["path"]
            for where, body in _body_fields(document, operation):
                for kind, text in (("nul", "\u0000"), ("surrogate", "\ud800")):
                    label = f"{method} {path} {'.'.join(where[1:])} {kind}"
                    yield label, method, url, body(text), where


@pytest.mark.django_db
def test_every_text_input_refuses_unstorable_text(demo_bank: Any) -> None:
    """Each query and path parameter and each body field of every operation, with a NUL
    and with a lone surrogate: 400 ``input.invalid_text`` naming that input."""
    client = Person("anna.schmidt").client
    inputs = list(_text_inputs())
    wrong = []
    for label, method, url, body, where in inputs:
        data = json.dumps(body) if body is not None else ""
        response = client.generic(method.upper(), url, data, "application/json")
        problem = response.json() if response["Content-Type"] == "application/problem+json" else {}
        locs = [e["loc"] for e in problem.get("errors", [])]
        if (response.status_code, problem.get("code"), locs) != (
            400,
            "input.invalid_text",
            [where],
        ):
            wrong.append(f"{label}: {response.status_code} {response.content[:200]!r}")
    assert wrong == []
    assert len(inputs) > 150  # every operation was seen
