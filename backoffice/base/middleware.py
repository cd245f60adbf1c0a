"""Request-scoped context: a request id that every audit event of the request carries, and
the one check that text from outside can be stored at all."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

from backoffice.base.context import request_id_var, request_scope

__all__ = [
    "HttpsExpectedMiddleware",
    "RequestIdMiddleware",
    "ApiProblemMiddleware",
    "TextInputMiddleware",
    "PARSED_JSON",
]

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


#: Host names that only this machine reaches: nobody there has a certificate for them, so a
#: redirect to https would end in the browser's connection error instead of a word of why.
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
    return name in _LOOPBACK_NAMES or name.endswith(".localhost") or name.startswith("127.")


class HttpsExpectedMiddleware:
    """#19 A newcomer's first hour: plain http to a server that insists on https is told so.

    Django's ``SecurityMiddleware`` (which stays, after this one) answers such a request
    with an empty 301. A newcomer who started ``backoffice serve`` on their own machine
    follows it to an https port nobody serves and sees only the browser's error. This one
    answers first, in words: a 301 with a page for public names (browsers follow it, other
    clients read why), and for loopback names the page itself (400, as nginx answers plain
    http on an https port) with the link and ``BACKOFFICE_PLAIN_HTTP=1`` for a local trial.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        if not getattr(settings, "SECURE_SSL_REDIRECT", False) or request.is_secure():
            return self.get_response(request)
        path = request.path.lstrip("/")
        if any(re.search(p, path) for p in settings.SECURE_REDIRECT_EXEMPT):
            return self.get_response(request)
        host = settings.SECURE_SSL_HOST or request.get_host()
        secure_url = f"https://{host}{request.get_full_path()}"
        from django.template.loader import render_to_string

        language = translation.get_language_from_request(request)
        with translation.override(language):
            body = render_to_string(
                "https_expected.html", {"secure_url": secure_url, "language": language}
            )
        if _is_loopback(request.get_host()):
            return HttpResponse(body, status=400)
        response = HttpResponse(body, status=301)
        response["Location"] = secure_url
        return response


class RequestIdMiddleware:
    """Take a well-formed ``X-Request-ID`` from the proxy, or make one; echo it back.

    The request's scope starts here too: answers cached for it end with it (``context``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            with request_scope():
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
            from backoffice.base.http import problem

            status = response.status_code
            reason = response.reason_phrase or "Error"
            converted = problem(
                request, status, f"http.{status}", f"{reason}: {request.method} {request.path}"
            )
            if status == 405 and response.has_header("Allow"):
                converted["Allow"] = response["Allow"]
            return converted
        return response


#: Text no database column can take: a NUL (PostgreSQL refuses it in text and jsonb) or a
#: lone UTF-16 surrogate (JSON's "\\ud800" decodes to one; it has no UTF-8 encoding, so
#: hashing or storing it fails).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: The request attribute that carries the JSON body this middleware parsed (api.py reuses it).
PARSED_JSON = "backoffice_parsed_json"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"

Where = list[str]


class TextInputMiddleware:
    """#13: refuse, once and before anything reads it, a request whose text cannot be stored.

    A lone surrogate or a NUL in a payload, comment, reason, query parameter, path or header
    reached the database or a hash and ended in a 500 (on PostgreSQL, a NUL anywhere). Here
    every such value, and every byte sequence that is not UTF-8 where text is expected, is
    answered with 400 ``input.invalid_text`` naming where it was: problem+json under /api/,
    the error page elsewhere. It runs before sessions and authentication, which look the
    session cookie up in the database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _unstorable(request)
        if where is not None:
            # the person's language is not known yet (the session is not read): the browser's
            with translation.override(translation.get_language_from_request(request)):
                return _refuse(request, where)
        return self.get_response(request)


def _unstorable(request: HttpRequest) -> Where | None:
    """Where the first text that cannot be stored is, or None."""
    if _UNSTORABLE.search(request.path):  # (bytes that are not UTF-8 Django re-escapes)
        return ["path"]
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and _UNSTORABLE.search(value):
            return ["header", key[5:].replace("_", "-").title()]
    for name, value in request.COOKIES.items():  # a quoted cookie may carry \\000 escapes
        if _UNSTORABLE.search(name) or _UNSTORABLE.search(value):
            return ["cookie", _printable(name)]
    where = _form_text("query", request.META.get("QUERY_STRING", ""))
    if where is not None:
        return where
    content_type = request.content_type or ""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    if content_type == _FORM:
        return _form_text("form", request.body.decode("latin-1"))
    if content_type == _MULTIPART:
        for name, values in request.POST.lists():
            for value in (name, *values):
                if _UNSTORABLE.search(value):
                    return ["form", _printable(name)]
        return None
    if request.path.startswith("/api/") and request.body:
        try:
            parsed = json.loads(request.body)
        except (ValueError, RecursionError):
            return None  # not JSON: the API answers that itself
        setattr(request, PARSED_JSON, parsed)
        return _json_text(parsed)
    return None


def _form_text(place: str, encoded: str) -> Where | None:
    """Check ``name=value&…`` (percent-encoded, as WSGI gives it) name by name."""
    for pair in encoded.split("&"):
        if not pair:
            continue
        name, _sep, value = pair.partition("=")
        decoded = [_percent_decoded(part) for part in (name, value)]
        if any(text is None or _UNSTORABLE.search(text) for text in decoded):
            return [place, _printable(_percent_decoded(name, errors="replace") or "")]
    return None


def _percent_decoded(part: str, errors: str = "strict") -> str | None:
    try:
        raw = unquote_to_bytes(part.replace("+", " ").encode("latin-1"))
        return raw.decode("utf-8", errors)
    except UnicodeError:
        return None


def _json_text(document: Any) -> Where | None:
    """The path of the first key or string in a JSON document that cannot be stored."""
    for path, text in _json_strings(document):
        if _UNSTORABLE.search(text):
            return ["body", *(_printable(p) for p in path)]
    return None


def _json_strings(document: Any) -> Iterator[tuple[list[str], str]]:
    """Every key and string value with its path, without recursion (depth is the client's)."""
    stack: list[tuple[list[str], Any]] = [([], document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield [*path, key], key
                stack.append(([*path, key], item))
        elif isinstance(value, list):
            stack.extend(([*path, str(i)], item) for i, item in enumerate(value))


def _printable(text: str) -> str:
    """A name that itself holds bad text, shown with U+FFFD in its place."""
    return _UNSTORABLE.sub("\ufffd", text)


def _refuse(request: HttpRequest, where: Where) -> HttpResponse:
    place = ".".join(where)
    message = _(
        "The text at %(place)s cannot be stored: it holds a NUL character, an unpaired "
        "surrogate or bytes that are not UTF-8."
    ) % {"place": place}
    if request.path.startswith("/api/"):
        from backoffice.base.http import problem

        errors = [{"loc": where, "msg": message, "type": "invalid_text"}]
        return problem(request, 400, "input.invalid_text", message, errors)
    from django.shortcuts import render

    from backoffice.core.errors import DomainError

    error = DomainError("input.invalid_text", message)
    return render(request, "error.html", {"error": error}, status=400)
