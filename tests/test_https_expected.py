"""#19 A newcomer's first hour: ``backoffice serve`` on plain http says why it wants https.

A real server (gunicorn, the production settings) answers plain http requests; none of
these needs the database.
"""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support import cli_env, http_get, running_server

PUBLIC = "backoffice.example.org"


def _get(base: str, path: str, host: str | None = None, **headers: str) -> tuple[int, str, Any]:
    """One plain http request, redirects not followed (a browser would follow the 301)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": host or parts.netloc, **headers})
        response = connection.getresponse()
        return response.status, response.read().decode(), response
    finally:
        connection.close()


def _https_server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """As an operator runs it: no BACKOFFICE_PLAIN_HTTP, redirect to https on (the default)."""
    env = cli_env(
        f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        tmp_path / "var",
        BACKOFFICE_ALLOWED_HOSTS=f"127.0.0.1,localhost,{PUBLIC}",
        **extra,
    )
    del env["BACKOFFICE_SSL_REDIRECT"]  # the tests' own plain-http switch; production has none
    return env


def test_plain_http_on_the_own_machine_shows_a_page_saying_https_and_how_to_try_without(
    tmp_path: Path,
) -> None:
    with running_server(_https_server_env(tmp_path)) as base:
        status, body, response = _get(base, "/inbox/?page=2")
        german_status, german, _ = _get(base, "/", **{"Accept-Language": "de"})
    port = urlsplit(base).port
    # not a redirect to an https port nobody serves here: a page the newcomer can read
    assert status == 400 and response.getheader("Location") is None
    assert "This server expects https" in body
    assert "BACKOFFICE_PLAIN_HTTP=1" in body
    assert f'href="https://127.0.0.1:{port}/inbox/?page=2"' in body
    assert german_status == 400 and "BACKOFFICE_PLAIN_HTTP=1" in german


def test_plain_http_to_a_public_name_is_redirected_with_a_body_that_says_why(
    tmp_path: Path,
) -> None:
    with running_server(_https_server_env(tmp_path)) as base:
        status, body, response = _get(base, "/cases/?state=open", host=PUBLIC)
    assert status == 301
    assert response.getheader("Location") == f"https://{PUBLIC}/cases/?state=open"
    assert "This server expects https" in body and "BACKOFFICE_PLAIN_HTTP=1" in body


def test_with_plain_http_set_as_the_page_says_the_same_server_answers_over_http(
    tmp_path: Path,
) -> None:
    env = _https_server_env(tmp_path, BACKOFFICE_PLAIN_HTTP="1")
    with running_server(env) as base:
        status, css, _ = http_get(f"{base}/static/backoffice/app.css")
    assert status == 200 and "--accent" in css
