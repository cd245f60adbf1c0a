"""Keyset pages for every list that grows: a page is "the next ``limit`` rows after this one".

Offsets get slower with every page and skip or repeat rows when something is inserted
between two requests; a keyset page reads the same index range however deep it is. The
cursor is opaque to clients (base64 of the sort key of the last row shown), so a list may
change its order later without breaking anyone.

JSON lists stay JSON arrays and say where the next page is in a ``Link: <…>; rel="next"``
header (RFC 8288, as GitHub does); HTML lists show a "Next page" link. CSV downloads are
not paged: they stream every row.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Self, TypeVar
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Field, Schema

from backoffice.core.errors import DomainError

__all__ = [
    "MAX_PAGE",
    "PAGE_SIZE",
    "Page",
    "PageIn",
    "RecordPages",
    "answer_page",
    "cursor_of",
    "decode_cursor",
    "encode_cursor",
    "keyset",
    "link_next",
    "next_url",
    "page_of",
]

PAGE_SIZE = 50
BIG_INTEGER_RANGE = (-(2**63), 2**63 - 1)
MAX_PAGE = 200

T = TypeVar("T")
M = TypeVar("M", bound=Model)
R = TypeVar("R")  # a row: the model, or a dict of a grouped ``values()`` query


@dataclass(frozen=True)
class Page(Generic[T]):
    """The rows of one page and the cursor of the next (None: this is the last page)."""

    items: list[T]
    next: str | None


class PageIn(Schema):
    """``?after=<cursor>&limit=<n>`` of a paged API list."""

    after: str | None = Field(None, description="The cursor from the previous page's Link")
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE)


def _plain(value: Any) -> Any:
    """A key as JSON holds it (#19: jobs are keyed by a UUID)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value) if isinstance(value, UUID) else value


def _encode(values: list[Any]) -> str:
    text = json.dumps([_plain(v) for v in values])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def encode_cursor(values: list[Any]) -> str:
    """The opaque cursor of a list computed in memory (sorted by ``values``' key)."""
    return _encode(values)


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The key ``encode_cursor`` made; a foreign cursor is ``input.invalid``."""
    return _decode(cursor, size)


def _decode(cursor: str, size: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise DomainError("input.invalid", "after: not a cursor of this list.")
    return values


def _value(row: Any, path: str) -> Any:
    value: Any = row
    for part in path.split("__"):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return value


def _after(order: Sequence[str], values: list[Any]) -> Q:
    """Rows that sort after ``values``: (a > x) or (a = x and b > y) or …"""
    condition = Q()  # not Q(pk__in=[]): on a grouped query the pk would join the GROUP BY
    for i, field in enumerate(order):
        name = field.lstrip("-")
        step = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": values[i]})
        for earlier, value in zip(order[:i], values, strict=False):
            step &= Q(**{earlier.lstrip("-"): value})
        condition |= step
    return condition


def _check(model: type[Model], path: str, value: Any) -> None:
    """Raise ValueError for a value its column cannot hold (the database would fail instead)."""
    field: Any = model._meta.pk
    for part in path.split("__"):
        try:
            field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        except FieldDoesNotExist:  # an annotation (a grouped list): the lookup converts it
            field = None
            break
        model = field.related_model or model
    if field is not None:
        field = field.target_field if field.is_relation else field
        value = field.to_python(value)
    kind = field.get_internal_type() if field is not None else "BigIntegerField"
    low, high = connection.ops.integer_field_ranges.get(kind, BIG_INTEGER_RANGE)
    if isinstance(value, int) and not low <= value <= high:
        raise ValueError(path)


def keyset(
    rows: QuerySet[M, R], order: Sequence[str], after: str | None, limit: int = PAGE_SIZE
) -> Page[R]:
    """One page of ``rows`` sorted by ``order``, whose last field must be unique (the pk)."""
    limit = max(1, min(limit, MAX_PAGE))
    if after:
        try:
            values = _decode(after, len(order))
            for path, value in zip(order, values, strict=True):
                _check(rows.model, path.lstrip("-"), value)
            rows = rows.filter(_after(order, values))
        except (TypeError, ValueError, ValidationError):  # a tampered key: text for a number
            raise DomainError("input.invalid", "after: not a cursor of this list.") from None
    found = list(rows.order_by(*order)[: limit + 1])
    shown = found[:limit]
    more = len(found) > limit
    return Page(shown, cursor_of(shown[-1], order) if more else None)


def cursor_of(row: Any, order: Sequence[str]) -> str:
    """The cursor of the rows after ``row``: for a list merged from several querysets (each
    paged with ``keyset`` over the same ``order``), whose last row shown the caller picks."""
    return _encode([_value(row, f.lstrip("-")) for f in order])


class RecordPages:
    """A list read a page at a time (API, HTML) or whole (CSV): ``records`` sorted by
    ``order`` (ending with the pk), each made into a row by ``row``.

    It holds the query, not the rows: a register that grows with every case is never in
    memory at once; a page reads ``limit`` records, a CSV streams them in chunks.
    """

    records: QuerySet[Any]
    order: tuple[str, ...]
    row: Callable[[Any], dict[str, Any]]

    def page(self, after: str | None, limit: int = PAGE_SIZE) -> Page[dict[str, Any]]:
        """The ``limit`` rows after the cursor ``after`` (a bad cursor: ``input.invalid``)."""
        return self.shown(keyset(self.records, self.order, after, limit))

    def shown(self, page: Page[Any]) -> Page[dict[str, Any]]:
        """A page of records (from ``keyset`` or ``page_of``) as a page of rows."""
        return Page([self.row(r) for r in page.items], page.next)

    def in_order(self, order: Sequence[str]) -> Self:
        """The same list in another order (#19: a page sorted by a column, and its download)."""
        other = copy.copy(self)
        object.__setattr__(other, "order", tuple(order))  # frozen dataclasses too
        return other

    def all_rows(self) -> Iterator[dict[str, Any]]:
        """Every row in order, read in chunks while the caller writes them out."""
        for record in self.records.order_by(*self.order).iterator(chunk_size=500):
            yield self.row(record)


def page_of(
    request: HttpRequest, rows: QuerySet[M, R], order: Sequence[str], size: int = PAGE_SIZE
) -> Page[R]:
    """The page an HTML list asks for with ``?after=`` (a bad cursor shows the first page)."""
    limit = request.GET.get("limit", "")
    size = int(limit) if limit.isdigit() else size
    try:
        return keyset(rows, order, request.GET.get("after") or None, size)
    except DomainError:
        return keyset(rows, order, None, size)


def next_url(request: HttpRequest, cursor: str | None) -> str | None:
    """This request's URL with ``after`` set to ``cursor`` (None on the last page)."""
    if cursor is None:
        return None
    query = request.GET.copy()
    query["after"] = cursor
    return f"{request.path}?{query.urlencode()}"


def answer_page(
    request: HttpRequest,
    response: HttpResponse,
    report: RecordPages,
    after: str | None,
    limit: int,
    csv: Callable[[], HttpResponseBase] | None = None,
) -> list[dict[str, Any]] | HttpResponseBase:
    """How the API answers a paged report: ``csv()`` (every row, streamed) when asked for,
    else one page with the next in the ``Link`` header."""
    if csv is not None:
        return csv()
    page = report.page(after, limit)
    link_next(request, response, page.next)
    return page.items


def link_next(request: HttpRequest, response: HttpResponse, cursor: str | None) -> None:
    """Say where the next page is in the ``Link`` header (nothing on the last page)."""
    url = next_url(request, cursor)
    if url is not None:
        response["Link"] = f'<{request.build_absolute_uri(url)}>; rel="next"'
