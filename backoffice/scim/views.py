"""#18: the SCIM 2.0 endpoint at /scim/v2/ (RFC 7644), for a bearer token only.

Thin: parse, call ``services``, answer ``application/scim+json``. Without
``BACKOFFICE_SCIM_TOKEN`` set the endpoint does not exist (404); a wrong token is a 401 and
recorded.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from backoffice.audit.services import record
from backoffice.scim import discovery
from backoffice.scim.models import ScimGroup
from backoffice.scim.services import (
    ENTERPRISE,
    ScimError,
    departments,
    do_delete_group,
    do_delete_user,
    do_join,
    do_save_group,
    do_update_user,
    filtered,
    group_resource,
    patched,
    person_data,
    user_resource,
    visible_users,
)

__all__ = [
    "group",
    "groups",
    "resource_types",
    "schemas",
    "service_provider_config",
    "user",
    "users",
]

CONTENT_TYPE = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_FIELDS = {"username": "username", "externalid": "scim_link__external_id", "id": "pk"}
GROUP_FIELDS = {"displayname": "display_name", "externalid": "external_id", "id": "pk"}


def _answer(body: Any, status: int = 200, **headers: str) -> HttpResponse:
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE, safe=False)
    for name, value in headers.items():
        response[name] = value
    return response


def _error(status: int, detail: str, scim_type: str = "") -> HttpResponse:
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return _answer(body, status)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/scim/v2").rstrip("/")


def scim_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The bearer token, then SCIM's error format for whatever the service refuses."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = str(settings.SCIM_TOKEN or "")
        if not token:
            return _error(404, "not found")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            with transaction.atomic():
                record(
                    "scim.refused",
                    actor="anonymous",
                    object_type="scim",
                    object_id="-",
                    reason="missing or wrong bearer token",
                )
            return _error(401, "a valid bearer token is required")
        try:
            return view(request, *args, **kwargs)
        except ScimError as exc:
            return _error(exc.status, exc.detail, exc.scim_type)

    return wrapper


def _json(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScimError(400, "the body is not JSON", "invalidSyntax") from exc
    if not isinstance(body, dict):
        raise ScimError(400, "the body must be a JSON object", "invalidSyntax")
    return body


ALWAYS = {"id", "schemas", "meta", "username", "active"}


def _names(value: Any) -> set[str]:
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return {v.strip().lower() for v in str(value or "").split(",") if v.strip()}


def project(resource: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7644 3.4.2.5 ``attributes`` / ``excludedAttributes`` (top-level names and the
    extension's URN); ``id``, ``schemas``, ``userName`` and ``active`` are always returned."""
    wanted, unwanted = _names(params.get("attributes")), _names(params.get("excludedAttributes"))

    def top(name: str) -> str:
        name = name.lower()
        return ENTERPRISE.lower() if name.startswith(ENTERPRISE.lower()) else name.split(".")[0]

    wanted, unwanted = {top(n) for n in wanted}, {top(n) for n in unwanted}
    kept = {}
    for key, value in resource.items():
        name = key.lower()
        if name in ALWAYS or (not wanted or name in wanted) and name not in unwanted:
            kept[key] = value
    return kept


def _page(
    request: HttpRequest,
    rows: Any,
    render: Callable[[Any], dict[str, Any]],
    params: Mapping[str, Any] | None = None,
) -> HttpResponse:
    params = request.GET if params is None else params
    try:
        start = max(1, int(params.get("startIndex", 1)))
        count = max(0, min(200, int(params.get("count", 100))))
    except (TypeError, ValueError) as exc:
        raise ScimError(400, "startIndex and count are numbers", "invalidValue") from exc
    total = rows.count()
    page = list(rows[start - 1 : start - 1 + count])
    return _answer(
        {
            "schemas": [LIST],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(page),
            "Resources": [project(render(row), params) for row in page],
        }
    )


def _one(rows: Any, pk: str, kind: str) -> Any:
    found = rows.filter(pk=int(pk)).first() if pk.isdigit() else None
    if found is None:
        raise ScimError(404, f"{kind} {pk} not found")
    return found


def _read_only(request: HttpRequest) -> None:
    if request.method != "GET":
        raise ScimError(405, "read only")


@scim_view
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    raise ScimError(404, "no such endpoint")


@scim_view
def service_provider_config(request: HttpRequest) -> HttpResponse:
    _read_only(request)
    return _answer(discovery.service_provider_config(_base(request)))


def _discovered(found: list[dict[str, Any]], wanted: str, kind: str) -> HttpResponse:
    """One discovery resource by id, or all of them as a ListResponse (RFC 7644 §4)."""
    if wanted:
        match = [r for r in found if r["id"] == wanted]
        if not match:
            raise ScimError(404, f"{kind} {wanted} not found")
        return _answer(match[0])
    return _answer(
        {
            "schemas": [LIST],
            "totalResults": len(found),
            "startIndex": 1,
            "itemsPerPage": len(found),
            "Resources": found,
        }
    )


@scim_view
def schemas(request: HttpRequest, schema_id: str = "") -> HttpResponse:
    _read_only(request)
    return _discovered(discovery.schemas(_base(request), departments()), schema_id, "schema")


@scim_view
def resource_types(request: HttpRequest, type_id: str = "") -> HttpResponse:
    _read_only(request)
    return _discovered(discovery.resource_types(_base(request)), type_id, "resource type")


@scim_view
def users(request: HttpRequest) -> HttpResponse:
    base = _base(request)
    if request.method == "POST":
        created = do_join(person_data(_json(request)))
        resource = user_resource(created, base)
        return _answer(resource, 201, Location=resource["meta"]["location"])
    if request.method != "GET":
        raise ScimError(405, "GET or POST")
    rows = filtered(visible_users(), request.GET.get("filter", ""), USER_FIELDS)
    return _page(request, rows, lambda u: user_resource(u, base))


@scim_view
def user(request: HttpRequest, scim_id: str) -> HttpResponse:
    base = _base(request)
    found = _one(visible_users(), scim_id, "User")
    if request.method == "GET":
        return _answer(project(user_resource(found, base), request.GET))
    if request.method == "PUT":
        body = _json(request)
        body.setdefault("userName", found.username)
        return _answer(user_resource(do_update_user(found, person_data(body)), base))
    if request.method == "PATCH":
        operations = _json(request).get("Operations")
        if not isinstance(operations, list):
            raise ScimError(400, "Operations: a list", "invalidSyntax")
        body = patched(user_resource(found, base), operations)
        return _answer(user_resource(do_update_user(found, person_data(body)), base))
    if request.method == "DELETE":
        do_delete_user(found)
        return HttpResponse(status=204)
    raise ScimError(405, "GET, PUT, PATCH or DELETE")


@scim_view
def groups(request: HttpRequest) -> HttpResponse:
    base = _base(request)
    if request.method == "POST":
        created = do_save_group(None, _json(request))
        resource = group_resource(created, base)
        return _answer(resource, 201, Location=resource["meta"]["location"])
    if request.method != "GET":
        raise ScimError(405, "GET or POST")
    rows = filtered(ScimGroup.objects.order_by("pk"), request.GET.get("filter", ""), GROUP_FIELDS)
    return _page(request, rows, lambda g: group_resource(g, base))


@scim_view
def group(request: HttpRequest, scim_id: str) -> HttpResponse:
    base = _base(request)
    found = _one(ScimGroup.objects.all(), scim_id, "Group")
    if request.method == "GET":
        return _answer(project(group_resource(found, base), request.GET))
    if request.method == "PUT":
        return _answer(group_resource(do_save_group(found, _json(request)), base))
    if request.method == "PATCH":
        operations = _json(request).get("Operations")
        if not isinstance(operations, list):
            raise ScimError(400, "Operations: a list", "invalidSyntax")
        body = patched(group_resource(found, base), operations)
        return _answer(group_resource(do_save_group(found, body), base))
    if request.method == "DELETE":
        do_delete_group(found)
        return HttpResponse(status=204)
    raise ScimError(405, "GET, PUT, PATCH or DELETE")


@scim_view
def search_everything(request: HttpRequest) -> HttpResponse:
    """POST /.search over every resource type at once: not offered (RFC 7644 3.4.3: 501)."""
    raise ScimError(501, "search per resource type: /Users/.search or /Groups/.search")


@scim_view
def search(request: HttpRequest, kind: str) -> HttpResponse:
    """POST …/.search (RFC 7644 3.4.3): a query in the body, for filters too long for a URL."""
    if request.method != "POST":
        raise ScimError(405, "POST")
    body = _json(request)
    base = _base(request)
    expression = str(body.get("filter") or "")
    if kind == "Users":
        rows = filtered(visible_users(), expression, USER_FIELDS)
        return _page(request, rows, lambda u: user_resource(u, base), body)
    rows = filtered(ScimGroup.objects.order_by("pk"), expression, GROUP_FIELDS)
    return _page(request, rows, lambda g: group_resource(g, base), body)
