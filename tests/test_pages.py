"""Keyset pages (base/pages.py): walking a list page by page shows every row once, in order."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.base.models import IdempotencyRecord
from backoffice.base.pages import keyset, link_next, next_url, page_of
from backoffice.base.sorting import Sorting
from backoffice.core.errors import DomainError

pytestmark = pytest.mark.django_db

ORDER = ("method", "-status", "pk")


def _walk(limit: int) -> list[int]:
    seen: list[int] = []
    after = None
    while True:
        page = keyset(IdempotencyRecord.objects.all(), ORDER, after, limit)
        seen += [r.pk for r in page.items]
        if page.next is None:
            return seen
        after = page.next


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["GET", "POST"]), st.integers(200, 203)), max_size=12),
    limit=st.integers(1, 5),
)
def test_pages_show_every_row_once_in_order_with_ties_in_the_leading_keys(
    rows: list[tuple[str, int]], limit: int
) -> None:
    user, _ = get_user_model().objects.get_or_create(username="pager")
    IdempotencyRecord.objects.all().delete()
    for i, (method, status) in enumerate(rows):
        IdempotencyRecord.objects.create(
            user=user, key=f"k{i}", method=method, path="/", request_hash="", status=status
        )
    expected = list(IdempotencyRecord.objects.order_by(*ORDER).values_list("pk", flat=True))
    assert _walk(limit) == expected


def test_a_cursor_that_is_not_one_of_this_list_is_refused_by_name() -> None:
    for bad in ("not base64!", "W10", "WzEsMl0"):  # junk, [], [1, 2] for a 3-key order
        with pytest.raises(DomainError) as refused:
            keyset(IdempotencyRecord.objects.all(), ORDER, bad, 3)
        assert refused.value.code == "input.invalid"
        assert "after" in refused.value.message


def test_html_lists_keep_their_filters_and_fall_back_to_the_first_page() -> None:
    user = get_user_model().objects.create(username="pager")
    for i in range(3):
        IdempotencyRecord.objects.create(user=user, key=f"k{i}", method="GET", path="/")
    request: Any = RequestFactory().get("/things/", {"state": "open", "after": "junk"})
    page = page_of(request, IdempotencyRecord.objects.all(), ("pk",))
    assert len(page.items) == 3 and page.next is None
    url = next_url(request, "abc")
    assert url is not None and url.startswith("/things/?") and "state=open" in url
    assert "after=abc" in url and "junk" not in url
    response: Any = {}
    link_next(request, response, None)
    assert response == {}
    link_next(request, response, "abc")
    assert response["Link"].endswith('after=abc>; rel="next"')


def test_a_key_its_column_cannot_hold_is_refused_not_sent_to_the_database() -> None:
    import base64
    import json

    for values in ([10**30], ["x"], [None]):
        token = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        with pytest.raises(DomainError) as refused:
            keyset(IdempotencyRecord.objects.all(), ("pk",), token, 3)
        assert "after" in refused.value.message


#: #19: a list sorted by a column header, whose values repeat (the pk breaks the ties)
SORTING = Sorting(IdempotencyRecord, {"method": ("method",), "path": ("path",)}, ORDER)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["GET", "POST"]), st.sampled_from("/ab")), max_size=10),
    sort=st.sampled_from(["method", "-method", "path", "-path"]),
    limit=st.integers(1, 4),
)
def test_a_list_sorted_by_a_header_shows_every_row_once_page_by_page(
    rows: list[tuple[str, str]], sort: str, limit: int
) -> None:
    user, _ = get_user_model().objects.get_or_create(username="pager")
    IdempotencyRecord.objects.all().delete()
    for i, (method, path) in enumerate(rows):
        IdempotencyRecord.objects.create(
            user=user, key=f"k{i}", method=method, path=path, request_hash=""
        )
    order = SORTING.parse(sort).order
    assert order[-1].lstrip("-") == "pk"
    seen: list[int] = []
    after = None
    while True:
        page = keyset(IdempotencyRecord.objects.all(), order, after, limit)
        seen += [r.pk for r in page.items]
        if page.next is None:
            break
        after = page.next
    column = sort.lstrip("-")
    expected = sorted(
        IdempotencyRecord.objects.values_list(column, "pk"), reverse=sort.startswith("-")
    )
    assert seen == [pk for _value, pk in expected]


def test_an_unknown_sort_column_is_refused_by_name() -> None:
    with pytest.raises(DomainError) as refused:
        SORTING.parse("-request_hash")
    assert refused.value.code == "input.invalid"
    assert "method, path" in refused.value.message
