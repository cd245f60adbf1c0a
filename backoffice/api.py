"""The REST API root: /api/v1/, OpenAPI at /api/v1/openapi.json, errors as problem+json.

Each app contributes one ``Router`` (``<app>/api.py``). Authentication: a session (with
CSRF) or ``Authorization: Bearer <token>`` (one's own, from the settings page or
``backoffice token create USERNAME`` with one's password).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from backoffice.accounts.services import get_user_by_token
from backoffice.core.errors import DomainError, http_status_for
from backoffice.middleware import PARSED_JSON

__all__ = ["api", "Problem", "PROBLEMS", "problem", "idempotent"]


class Problem(Schema):
    """RFC 9457 problem details, with our stable ``code``."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[dict[str, Any]] = []


#: ``response=`` entries every operation declares for its errors.
PROBLEMS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
}


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = get_user_by_token(token)
        if user is not None:
            request.user = user
        return user


class BackofficeAPI(NinjaAPI):
    """Declares errors as ``application/problem+json`` in the OpenAPI document, as sent."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for item in schema["paths"].values():
            for operation in item.values():
                responses = operation.get("responses", {})
                for status, response in responses.items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
                ok = next((r for status, r in responses.items() if int(status) == 200), None)
                if ok is not None and _offers_csv(operation):
                    ok.setdefault("content", {})["text/csv"] = {
                        "schema": {"type": "string", "description": "the same rows as CSV"}
                    }
        return schema


class CheckedJsonParser(Parser):
    """The JSON body as ``TextInputMiddleware`` parsed and checked it: parsed once (#13)."""

    def parse_body(self, request: HttpRequest) -> Any:
        if hasattr(request, PARSED_JSON):
            return getattr(request, PARSED_JSON)
        return super().parse_body(request)


def _offers_csv(operation: dict[str, Any]) -> bool:
    """Reports take ``?format=csv`` (our convention) and then answer text/csv."""
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "format" and parameter.get("in") == "query":
            return "csv" in str(parameter.get("schema", {}))
    return False


api = BackofficeAPI(
    title="Backoffice API",
    version="1",
    description=(
        "Four-eyes cases, credit votes, access governance, Chinese walls and the audit "
        "trail. Errors are RFC 9457 problem+json with a stable `code`."
    ),
    auth=[BearerToken(), django_auth],
    parser=CheckedJsonParser(),
    urls_namespace="api",
    docs_url="/docs",
)

_TITLES = {
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    422: "Unprocessable request",
    400: "Bad request",
    405: "Method not allowed",
}


def problem(
    request: HttpRequest,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    body = Problem(
        type=f"urn:backoffice:problem:{code}",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        code=code,
        instance=request.path,
        errors=errors or [],
    )
    response = api.create_response(request, body.model_dump(), status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(request, http_status_for(exc.code), exc.code, exc.message, exc.errors)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    return problem(
        request, 422, "input.invalid", "The request does not have the expected shape.", errors
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(request, 401, "auth.required", "Log in or send a valid bearer token.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "not_found", str(exc) or "There is nothing here you may see.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(request, exc.status_code, f"http.{exc.status_code}", str(exc))


def idempotent(request: HttpRequest, status_body: Callable[[], tuple[int, Schema]]) -> HttpResponse:
    """Run a POST at most once per ``Idempotency-Key``: a retry gets the first response.

    The key's record is written in the same transaction as the command, so a crash can
    never leave a command done without its record (a retry would do it twice) or a
    record without its command. Denials are responses too and are replayed as such.
    """
    from backoffice.cases.models import IdempotencyRecord

    key = request.headers.get("Idempotency-Key")
    if not key:
        status, body = status_body()
        return api.create_response(request, body, status=status)
    if len(key) > 200:
        raise DomainError(
            "idempotency.key_invalid", "An Idempotency-Key has at most 200 characters."
        )
    digest = hashlib.sha256(
        request.method.encode() + b" " + request.path.encode() + b"\n" + request.body
    ).hexdigest()
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.select_for_update().get_or_create(
            user=request.user,
            key=key,
            defaults={"method": request.method, "path": request.path, "request_hash": digest},
        )
        if not created:
            if record.request_hash != digest:
                raise DomainError(
                    "idempotency.key_reused",
                    "This Idempotency-Key was used for a different request.",
                )
            response = api.create_response(request, record.response, status=record.status)
            if record.status >= 400:
                response["Content-Type"] = "application/problem+json"
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            status, body = status_body()
            stored: Any = body.model_dump(mode="json")
        except DomainError as exc:
            status = http_status_for(exc.code)
            stored = json.loads(problem(request, status, exc.code, exc.message, exc.errors).content)
        record.status, record.response = status, stored
        record.save(update_fields=["status", "response"])
    response = api.create_response(request, stored, status=status)
    if status >= 400:
        response["Content-Type"] = "application/problem+json"
    return response


def _mount() -> None:
    from backoffice.access.api import router as access_router  # #6 access governance
    from backoffice.accounts.api import router as accounts_router
    from backoffice.audit.api import router as audit_router
    from backoffice.cases.api import router as cases_router
    from backoffice.credit.api import router as credit_router
    from backoffice.walls.api import router as walls_router  # #8 Chinese walls

    api.add_router("/", accounts_router)
    api.add_router("/", cases_router)
    api.add_router("/", audit_router)
    api.add_router("/credit/", credit_router)
    api.add_router("/", walls_router)
    api.add_router("/", access_router)


_mount()
