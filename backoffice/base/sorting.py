"""#19: sortable columns for every list, sorted by the database, not on the page.

A list declares which columns may be sorted (a whitelist) and how each sorts; a request
picks one with ``?sort=column`` (ascending) or ``?sort=-column`` (descending). The order
always ends with the primary key, so equal values keep one order and a keyset page
(``pages.keyset``) neither skips nor repeats a row. An unknown column is bad input (422,
as every bad parameter here) whose message names the columns there are: a bookmark that
sorted by something else should say so, not quietly show another order, and a download
must come in the order asked for.

Only columns that never hold NULL may be declared: a keyset page compares values with
``>``/``<``, and NULL compares with nothing (``tests/web/test_lists.py`` checks them all).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.http import HttpRequest
from django.http.request import QueryDict

from backoffice.core.errors import DomainError

__all__ = ["SORTINGS", "Sorted", "Sorting"]

#: every list's declaration, for the check that none sorts by a column that may be NULL
SORTINGS: list[Sorting] = []


@dataclass(frozen=True)
class Sorting:
    """One list's sortable columns: ``columns`` maps the name in ``?sort=`` to the fields it
    orders by (ascending; ``-`` reverses them all); ``default`` is the order without a sort,
    ``tiebreak`` the unique last field."""

    model: type[Model]
    columns: Mapping[str, Sequence[str]]
    default: Sequence[str]
    tiebreak: str = "pk"
    #: the sort a column's first click asks for: text ascending, newest first for times
    descending_first: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        SORTINGS.append(self)

    def of(self, request: HttpRequest) -> Sorted:
        """The order ``request`` asks for (``?sort=``); an unknown column is ``input.invalid``."""
        return self.parse(request.GET.get("sort", ""), request.GET)

    def parse(self, text: str, query: QueryDict | None = None) -> Sorted:
        """The order ``text`` (``column`` or ``-column``, empty: the default) names."""
        text = text.strip()
        query = query if query is not None else QueryDict()
        if not text:
            return Sorted(self, "", False, tuple(self.default), query)
        descending = text.startswith("-")
        column = text.removeprefix("-")
        if column not in self.columns:
            known = ", ".join(sorted(self.columns))
            raise DomainError(
                "input.invalid", f"sort: this list sorts by {known} (with - for descending)."
            )
        sign = "-" if descending else ""
        fields = [f"{sign}{name}" for name in self.columns[column]]
        tiebreak = f"{sign}{self.tiebreak}"
        order = tuple(fields if tiebreak in fields else [*fields, tiebreak])
        return Sorted(self, column, descending, order, query)


@dataclass(frozen=True)
class Sorted:
    """The order of one request, and the links of the list's column headers."""

    sorting: Sorting
    column: str  # "" when the list is in its default order
    descending: bool
    order: tuple[str, ...]
    query: QueryDict

    @property
    def param(self) -> str:
        """The ``sort`` value that gives this order again (for downloads and next pages)."""
        if not self.column:
            return ""
        return f"-{self.column}" if self.descending else self.column

    def aria(self, column: str) -> str:
        """``aria-sort`` of a header: ascending, descending, or empty for the others."""
        if column != self.column:
            return ""
        return "descending" if self.descending else "ascending"

    def url(self, column: str) -> str:
        """The list sorted by ``column``: the other way round if it is sorted by it already.
        Filters stay; the cursor goes, since a page of one order is no page of another."""
        query = self.query.copy()
        query.pop("after", None)
        query.pop("before", None)
        if column == self.column:
            descending = not self.descending
        else:
            descending = column in self.sorting.descending_first
        query["sort"] = f"-{column}" if descending else column
        return f"?{query.urlencode()}"

    def with_sort(self, url: str) -> str:
        """A download's URL in the same order as the page (``&sort=`` added when sorted)."""
        if not self.column:
            return url
        joiner = "&" if "?" in url else "?"
        query = QueryDict(mutable=True)
        query["sort"] = self.param
        return f"{url}{joiner}{query.urlencode()}"

    def context(self) -> dict[str, Any]:
        """What ``{% sort_header %}`` reads from the template context."""
        return {"sorted": self}
