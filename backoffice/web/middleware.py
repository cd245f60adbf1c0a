"""Each person's language, from their profile, unless they chose another for this session."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

__all__ = ["UserLanguageMiddleware", "DomainErrorMiddleware"]


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        profile = getattr(user, "profile", None) if user and user.is_authenticated else None
        language = getattr(profile, "language", None)
        if language in self.supported:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language in self.supported:
            response.headers.setdefault("Content-Language", language)
        return response


class DomainErrorMiddleware:
    """A refusal on an HTML page is a page that says why, with the right status code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from django.shortcuts import render

        from backoffice.core.errors import DomainError, http_status_for

        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        status = 404 if exception.code.endswith("not_found") else http_status_for(exception.code)
        return render(request, "error.html", {"error": exception}, status=status)
