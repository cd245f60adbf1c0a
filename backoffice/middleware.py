"""Request-scoped context: a request id that every audit event of the request carries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from backoffice.audit.services import request_id_var

__all__ = ["RequestIdMiddleware", "ApiProblemMiddleware"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Take a well-formed ``X-Request-ID`` from the proxy, or make one; echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class ApiProblemMiddleware:
    """Every error under /api/ is problem+json, also the ones Django answers itself
    (405 for a method a path does not have, 404 for a path that does not exist)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/problem+json")
        ):
            from backoffice.api import problem

            status = response.status_code
            reason = response.reason_phrase or "Error"
            converted = problem(
                request, status, f"http.{status}", f"{reason}: {request.method} {request.path}"
            )
            if status == 405 and response.has_header("Allow"):
                converted["Allow"] = response["Allow"]
            return converted
        return response
