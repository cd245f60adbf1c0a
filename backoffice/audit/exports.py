"""Exporting the audit log from the database: a seq range or one object, in three formats.

``--from``/``--to`` take a seq number or a date/time; times are turned into the seq range
they cover, so a JSONL export of a time span is still one unbroken piece of the chain.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import IO, Any, Literal

from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from backoffice.audit.models import AuditEvent
from backoffice.audit.queries import iter_checkpoints, iter_stored_events
from backoffice.core.audit import to_json_value
from backoffice.core.audit_export import Chunks, csv_chunks, drain, jsonl_chunks, ocel_chunks
from backoffice.core.progress import Progress, counted

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "ExportScope",
    "export_chunks",
    "export_log",
    "parse_bound",
    "parse_object",
    "parse_scope",
]

FORMATS = ("jsonl", "csv", "ocel")
Format = Literal["jsonl", "csv", "ocel"]

#: What a download of each format is (``name``: the file's suffix and its media type).
MEDIA_TYPES = {
    "jsonl": ("jsonl", "application/jsonl; charset=utf-8"),
    "csv": ("csv", "text/csv; charset=utf-8"),
    "ocel": ("ocel.json", "application/json; charset=utf-8"),
}


@dataclass(frozen=True)
class ExportScope:
    """A contiguous seq range (``to_seq`` None: up to the head), or one object's events."""

    from_seq: int = 1
    to_seq: int | None = None
    object: tuple[str, str] | None = None

    def events(self) -> QuerySet[AuditEvent]:
        events = AuditEvent.objects.filter(seq__gte=self.from_seq)
        if self.to_seq is not None:
            events = events.filter(seq__lte=self.to_seq)
        if self.object is not None:
            events = events.filter(object_type=self.object[0], object_id=self.object[1])
        return events

    def header(self) -> dict[str, Any]:
        return {
            "exported_at": to_json_value(timezone.now()),
            "from_seq": self.from_seq,
            "to_seq": self.to_seq,
            "object": f"{self.object[0]}:{self.object[1]}" if self.object else None,
        }


def parse_object(value: str) -> tuple[str, str]:
    """``TYPE:ID`` (the id may contain colons)."""
    object_type, sep, object_id = value.partition(":")
    if not sep or not object_type or not object_id:
        raise ValueError(f"{value!r}: give the object as TYPE:ID, e.g. case:42")
    return object_type, object_id


def parse_bound(value: str, *, end: bool) -> int:
    """A seq number, or the first (``end``: last) seq of events at or after (before) a time.

    A date means the whole day: ``--to 2026-11-30`` includes all of 30 November.
    """
    if value.isdigit():
        return int(value) if end else max(1, int(value))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is neither a seq number nor an ISO date/time") from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        inclusive = True
    else:
        moment = timezone.make_aware(datetime.combine(day + timedelta(days=end), time.min))
        inclusive = False
    if end:
        lookup = {"at__lte" if inclusive else "at__lt": moment}
        found = AuditEvent.objects.filter(**lookup).aggregate(seq=Max("seq"))["seq"]
        return int(found or 0)
    found = AuditEvent.objects.filter(at__gte=moment).aggregate(seq=Min("seq"))["seq"]
    if found is None:
        head = AuditEvent.objects.aggregate(seq=Max("seq"))["seq"] or 0
        return int(head) + 1
    return int(found)


def parse_scope(start: str | None, end: str | None, obj: str | None) -> ExportScope:
    """The scope ``--from``/``--to``/``--object`` (CLI) or ``from``/``to``/``object`` (the
    audit page's download) name; ValueError says what is wrong."""
    return ExportScope(
        from_seq=parse_bound(start, end=False) if start else 1,
        to_seq=parse_bound(end, end=True) if end else None,
        object=parse_object(obj) if obj else None,
    )


def export_log(out: IO[str], fmt: Format, scope: ExportScope) -> int:
    """Write the events of ``scope``; returns how many. JSONL carries the checkpoints too."""
    return drain(out, export_chunks(fmt, scope))


def export_chunks(
    fmt: Format, scope: ExportScope, *, progress: Progress | None = None, every: int = 1000
) -> Chunks:
    """The export as text pieces, made while they are read: the CLI writes them to a file,
    the audit page streams them, and both give the same bytes.

    ``progress`` (#19) is told how many events were read, every ``every`` events; OCEL reads
    each event twice (objects first), so there it counts each read as half an event.
    """
    if fmt == "ocel":
        if progress is None:
            return (yield from ocel_chunks(lambda: iter_stored_events(scope.events())))
        halves = _Halves(progress)
        return (
            yield from ocel_chunks(
                lambda: counted(iter_stored_events(scope.events()), halves.start(), every=every)
            )
        )
    # closing(): a reader that stops early must not leave a cursor open past the connection.
    with closing(iter_stored_events(scope.events())) as stored:
        events = counted(stored, progress, every=every)
        if fmt == "csv":
            return (yield from csv_chunks(events))
        # Checkpoints sign the whole chain's head: they mean nothing in one object's events.
        signed = iter_checkpoints(scope.from_seq, scope.to_seq) if scope.object is None else ()
        return (yield from jsonl_chunks(events, signed, header=scope.header()))


class _Halves:
    """Progress over OCEL's two passes: each pass adds to the ones before it, halved."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.before = 0
        self.current = 0

    def start(self) -> Progress:
        """The callback of the next pass."""
        self.before += self.current
        self.current = 0

        def report(done: int) -> None:
            self.current = done
            self.progress((self.before + done) // 2)

        return report
