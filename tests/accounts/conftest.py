"""People of the demo bank administering each other's logins through the API (#13)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.cases.conftest import Person

LINK = re.compile(r"https?://\S+/password/set/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")


@pytest.fixture
def person(demo_bank: Any) -> Callable[[str], Person]:
    return Person


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], Any]:
    """Run what waits for the commit (the mails) when the block ends, as production does."""

    @contextmanager
    def _committed() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return _committed


def user_admin(maker: Person, **payload: Any) -> dict[str, Any]:
    """Propose a user-admin change and submit it; the case as the API answers."""
    payload.setdefault("reason", "ticket 4711")
    response = maker.start("user-admin", payload)
    assert response.status_code == 201, response.content
    return dict(response.json())


def release(checker: Person, case_id: int, committed: Callable[[], Any]) -> Any:
    with committed():
        return checker.act(case_id, "release")
