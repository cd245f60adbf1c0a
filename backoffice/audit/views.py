"""The audit trail in the browser: browse and filter events, check the chain on demand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from backoffice.audit.exports import (
    FORMATS,
    MEDIA_TYPES,
    Format,
    export_chunks,
    parse_scope,
)
from backoffice.audit.models import Checkpoint
from backoffice.audit.queries import (
    AUDIT_SORTING,
    AuditFilter,
    access_audit_log,
    audit_scopes,
    known_actions,
    verify_database,
)
from backoffice.audit.services import do_note_verification_export
from backoffice.audit.signing import configured_public_keys
from backoffice.base.actor import actor_of
from backoffice.base.pages import next_url, page_of
from backoffice.base.pdf import pdf_download
from backoffice.core.audit_export import Chunks
from backoffice.core.errors import DomainError

__all__ = ["audit_export", "audit_log", "audit_verify"]

#: events per page of the audit list
PAGE = 100


def _day(value: str, end: bool = False) -> datetime | None:
    day = parse_date(value) if value else None
    if day is None:
        return None
    moment = datetime.combine(day, time.max if end else time.min)
    return timezone.make_aware(moment)


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Newest first unless a column header sorts it (#19); one keyset page at a time.

    Actor, action and process come from pickers and match exactly (#19): the actor is a
    login, the action one of those on the trail, the process a key of the live policy.
    """
    params = request.GET
    scopes = audit_scopes()
    access = access_audit_log(actor_of(request))
    sorted_ = AUDIT_SORTING.of(request)
    filters = AuditFilter(
        action=params.get("action") or None,
        actor=params.get("actor") or None,
        object_type=params.get("object_type") or None,
        object_id=params.get("object_id") or None,
        since=_day(params.get("since", "")),
        until=_day(params.get("until", ""), end=True),
        scopes=tuple((name, params[name]) for name in scopes if params.get(name)),
    )
    events = filters.apply(access)
    before = params.get("before", "")
    if before.isdigit() and not sorted_.column:  # the older pages' links before #19
        events = events.filter(seq__lt=int(before))
    page = page_of(request, events, sorted_.order, PAGE)
    context: dict[str, Any] = {
        "events": page.items,
        "next_url": next_url(request, page.next),
        "filters": params,
        "actions": known_actions(),
        "scopes": [
            (name, scope.label, scope.choices(), params.get(name, ""))
            for name, scope in scopes.items()
        ],
        "checkpoint": Checkpoint.objects.order_by("-seq").first(),
        **sorted_.context(),
    }
    template = "audit/_events.html" if request.htmx else "audit/audit_log.html"
    return render(request, template, context)


@login_required
@require_POST
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Recompute the whole chain now, with the configured public keys."""
    actor = actor_of(request)
    access_audit_log(actor)
    outcome = verify_database(configured_public_keys())
    if request.GET.get("format") == "pdf":  # #19: the result as a file, checked as the page
        do_note_verification_export(actor.person, outcome, "pdf")
        context = {"title": _("Verification of the audit trail"), "outcome": outcome}
        return pdf_download(
            request, "audit/verification_print.html", context, "audit-verification.pdf"
        )
    return render(request, "audit/_verification.html", {"outcome": outcome})


#: Characters a download sends at once: one network write per chunk, not one per row.
CHUNK = 64 * 1024


def _batched(chunks: Chunks) -> Iterator[str]:
    size, pending = 0, []
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= CHUNK:
            yield "".join(pending)
            size, pending = 0, []
    if pending:
        yield "".join(pending)


@login_required
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """``backoffice audit export`` as a download: the same ``format``/``from``/``to``/``object``
    give the same file, streamed while the log is read (a whole trail never sits in memory)."""
    access_audit_log(actor_of(request))
    params = request.GET
    fmt = params.get("format") or "jsonl"
    if fmt not in FORMATS:
        raise DomainError("input.invalid", f"format: one of {', '.join(FORMATS)}.")
    try:
        scope = parse_scope(params.get("from"), params.get("to"), params.get("object"))
    except ValueError as exc:
        raise DomainError("input.invalid", str(exc)) from None
    suffix, media_type = MEDIA_TYPES[fmt]
    response = StreamingHttpResponse(
        _batched(export_chunks(cast(Format, fmt), scope)),
        content_type=media_type,
    )
    response["Content-Disposition"] = f'attachment; filename="audit-log.{suffix}"'
    return response
