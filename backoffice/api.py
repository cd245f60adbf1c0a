"""The REST API root: /api/v1/, OpenAPI at /api/v1/openapi.json, errors as problem+json.

Each app contributes one ``Router`` (``<app>/api.py``), mounted in ``urls``.
Authentication: a session (with CSRF) or ``Authorization: Bearer <token>`` (one's own,
from the settings page or ``backoffice token create USERNAME`` with one's password).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from backoffice.accounts.services import get_user_by_token
from backoffice.base.http import problem
from backoffice.base.middleware import PARSED_JSON
from backoffice.core.errors import DomainError, http_status_for
from backoffice.core.xlsx import MEDIA_TYPE as XLSX_TYPE

__all__ = ["api", "mount"]


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = get_user_by_token(token)
        if user is not None:
            request.user = user
            # #15 DSD: a token has no login session, so no session role is active for it
            request._backoffice_token = True  # type: ignore[attr-defined]
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
                    content = ok.setdefault("content", {})
                    content["text/csv"] = {
                        "schema": {"type": "string", "description": "the same rows as CSV"}
                    }
                    content[XLSX_TYPE] = {
                        "schema": {
                            "type": "string",
                            "format": "binary",
                            "description": "the same rows as an Excel workbook (?format=xlsx)",
                        }
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


def mount(*routers: tuple[str, Router]) -> None:
    """Put each app's router on the root, once; ``urls`` calls it, where the URLs are (a
    router never imports the root that mounts it)."""
    mounted = {registered for _, registered in api._routers}
    for prefix, router in routers:
        if router not in mounted:
            api.add_router(prefix, router)
