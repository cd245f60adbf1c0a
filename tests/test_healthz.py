from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.django_db
def test_healthz_is_200_with_the_database_reachable(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_pages_need_a_login(client: Any) -> None:
    response = client.get("/organisation/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_organisation_page_shows_tree_and_status(demo_bank: Any, login: Any) -> None:
    page = login("martin.jung").get("/organisation/").content.decode()
    assert "Market and back office are separated up to the board" in page
    assert "Credit Analysis" in page and "Maria Keller (head)" in page
