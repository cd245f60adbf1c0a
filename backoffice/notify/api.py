"""#18 ``GET /api/v1/events?after=CURSOR``: the outbox for systems that poll instead of
receiving webhooks. Keyset pages in event order; an event about a case only if the caller
may see the case (walls included)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS
from backoffice.base.pages import PageIn, cursor_of, keyset, link_next
from backoffice.notify.services import event_body, events_for

__all__ = ["router"]

router = Router(tags=["events"])


class EventOut(Schema):
    id: int
    type: str
    timestamp: str
    data: dict[str, Any]


class EventsOut(Schema):
    events: list[EventOut]
    #: pass it as ``after`` next time: the position after the last event shown
    cursor: str | None


@router.get(
    "/events",
    response={200: EventsOut, **PROBLEMS},
    summary="Events in order after a cursor (case released, grant made, ...), for polling",
)
def list_events(request: HttpRequest, response: HttpResponse, page: Query[PageIn]) -> EventsOut:
    found = keyset(events_for(actor_of(request)), ("id",), page.after, page.limit)
    link_next(request, response, found.next)
    cursor = cursor_of(found.items[-1], ("id",)) if found.items else page.after
    return EventsOut(events=[EventOut(**event_body(e)) for e in found.items], cursor=cursor)
