"""#19: ``GET /search?q=``: the global search, the same hits as the page, by kind."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS
from backoffice.web.queries import MAX_LENGTH, search

__all__ = ["router"]

router = Router(tags=["search"])


class HitOut(Schema):
    title: str
    detail: str
    url: str


class SearchOut(Schema):
    q: str
    cases: list[HitOut]
    people: list[HitOut]
    borrowers: list[HitOut]
    issuers: list[HitOut]
    vendors: list[HitOut]


@router.get(
    "/search",
    response={200: SearchOut, **PROBLEMS},
    summary="Search cases, people, borrowers, issuers and vendors the caller may see",
)
def search_all(request: HttpRequest, q: str = "") -> SearchOut:
    found = search(actor_of(request), q[:MAX_LENGTH])
    hits = {
        kind: [HitOut(title=h.title, detail=h.detail, url=h.url) for h in found.kinds.get(kind, [])]
        for kind in ("cases", "people", "borrowers", "issuers", "vendors")
    }
    return SearchOut(q=found.text, **hits)
