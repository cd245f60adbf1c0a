"""The HTTP pieces every API router and page shares: problem responses (RFC 9457), at-most-once
POSTs (``Idempotency-Key``) and CSV and XLSX downloads with the formula guard.

They live here, below the apps, so that no router imports the API root that mounts it.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Schema
from ninja.responses import NinjaJSONEncoder

from backoffice.base.models import IdempotencyRecord
from backoffice.core.csvsafe import writer
from backoffice.core.errors import DomainError, http_status_for
from backoffice.core.xlsx import MEDIA_TYPE as XLSX_TYPE
from backoffice.core.xlsx import write_xlsx

__all__ = [
    "Problem",
    "PROBLEMS",
    "Later",
    "act_and_tell",
    "DOWNLOADS",
    "csv_download",
    "csv_response",
    "xlsx_download",
    "idempotent",
    "json_response",
    "problem",
]


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

_TITLES = {
    400: "Bad request",
    401: "Unauthorised",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Unprocessable request",
}


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """JSON as the API's own renderer writes it (dates, decimals, schemas)."""
    content_type = "application/problem+json" if status >= 400 else "application/json"
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder),
        status=status,
        content_type=f"{content_type}; charset=utf-8" if status < 400 else content_type,
    )


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
    return json_response(body.model_dump(), status)


@dataclass(frozen=True)
class Later:
    """A command's answer, built after its transaction committed.

    The answer (a case with the actions its reader may take next, say) takes longer to
    build than the command; built inside, it would keep the audit chain's lock (taken when
    the command appends its events) for that long, and every other writer waits (#14).
    ``ref`` is kept with the Idempotency-Key, so that a retry arriving before the answer is
    stored (or after a crash in between) gets the same answer built anew.
    """

    status: int
    ref: dict[str, Any]
    answer: Callable[[], Schema]


_PENDING = "$answer-pending"


def idempotent(
    request: HttpRequest,
    status_body: Callable[[], tuple[int, Schema] | Later],
    rebuild: Callable[[dict[str, Any]], Schema] | None = None,
) -> HttpResponse:
    """Run a POST at most once per ``Idempotency-Key``: a retry gets the first response.

    The key's record is written in the same transaction as the command, so a crash can
    never leave a command done without its record (a retry would do it twice) or a
    record without its command. Denials are responses too and are replayed as such. A
    ``Later`` answer is stored after the commit; until then a retry builds it with
    ``rebuild`` from the stored ``ref``.
    """
    key = request.headers.get("Idempotency-Key")
    if not key:
        result = status_body()
        if isinstance(result, Later):
            return json_response(result.answer().model_dump(mode="json"), result.status)
        return json_response(result[1].model_dump(mode="json"), result[0])
    if len(key) > 200:
        raise DomainError(
            "idempotency.key_invalid", "An Idempotency-Key has at most 200 characters."
        )
    digest = hashlib.sha256(
        request.method.encode() + b" " + request.path.encode() + b"\n" + request.body
    ).hexdigest()
    later = None
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
            stored = record.response
            if isinstance(stored, dict) and _PENDING in stored and rebuild is not None:
                stored = rebuild(stored[_PENDING]).model_dump(mode="json")
            response = json_response(stored, record.status)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            result = status_body()
            if isinstance(result, Later):
                later = result
                status, stored = result.status, {_PENDING: result.ref}
            else:
                status, stored = result[0], result[1].model_dump(mode="json")
        except DomainError as exc:
            status = http_status_for(exc.code)
            stored = json.loads(problem(request, status, exc.code, exc.message, exc.errors).content)
        record.status, record.response = status, stored
        record.save(update_fields=["status", "response"])
    if later is not None:
        stored = later.answer().model_dump(mode="json")
        IdempotencyRecord.objects.filter(pk=record.pk).update(response=stored)
    return json_response(stored, status)


class _Line:
    """A file that hands back what is written to it, so each CSV row streams as it is made."""

    def write(self, text: str) -> str:
        return text


#: What ``?format=`` downloads besides a page of JSON: every row, as CSV or as a workbook.
DOWNLOADS = ("csv", "xlsx")


def csv_download(
    filename: str, columns: Sequence[str], rows: Iterable[Sequence[object]], fmt: str = "csv"
) -> StreamingHttpResponse:
    """A CSV download, streamed (a complete register does not sit in memory): a header row,
    then one line per row, every cell through the formula guard (``core.csvsafe``).

    ``fmt="xlsx"`` makes it the same rows as a workbook (``name.xlsx``), so every list that
    offers ``?format=csv`` offers ``?format=xlsx`` by passing its ``format`` on."""
    if fmt == "xlsx":
        return xlsx_download(filename.removesuffix(".csv") + ".xlsx", columns, rows)
    out = writer(_Line())

    def lines() -> Iterator[str]:
        yield out.writerow(columns)
        for row in rows:
            yield out.writerow([_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


#: Bytes a workbook download sends at once.
_BLOCK = 64 * 1024


def xlsx_download(
    filename: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """The rows as one worksheet (``core.xlsx``), spooled to a temporary file while the rows
    are read and then streamed from it: a ZIP file is only complete at its end."""

    def blocks() -> Iterator[bytes]:
        with tempfile.TemporaryFile() as spool:
            write_xlsx(spool, filename.removesuffix(".xlsx"), columns, rows)
            spool.seek(0)
            while block := spool.read(_BLOCK):
                yield block

    response = StreamingHttpResponse(blocks(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(
    filename: str, rows: Iterable[Schema], schema: type[Schema], fmt: str = "csv"
) -> StreamingHttpResponse:
    """A CSV (or, ``fmt="xlsx"``, XLSX) download of API rows: the schema's fields are the
    columns."""
    columns = list(schema.model_fields)
    return csv_download(filename, columns, ([getattr(r, c) for c in columns] for r in rows), fmt)


def _cell(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def act_and_tell(request: HttpRequest, action: Callable[[], object], done: str) -> int:
    """A page's form: call one service and say what happened as a message; the status of
    the page to show (the refusal's, or 200)."""
    from django.contrib import messages

    try:
        action()
    except DomainError as exc:
        messages.error(request, f"{exc.message} ({exc.code})")
        return http_status_for(exc.code)
    messages.success(request, done)
    return 200
