"""Secure headers on every page, a CSP without 'unsafe-inline', and Django's deploy checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import cli_env, run_cli


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/healthz", "/api/v1/openapi.json", "/api/v1/docs"])
def test_secure_headers(client: Any, url: str) -> None:
    response = client.get(url, secure=True)  # HSTS is sent on HTTPS responses only
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.django_db
def test_api_docs_come_from_our_own_static_files(client: Any) -> None:
    page = client.get("/api/v1/docs").content.decode()
    assert "cdn" not in page.lower() and "/static/ninja/swagger-ui-bundle.js" in page


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure(client: Any) -> None:
    client.get("/login/")
    assert client.cookies["csrftoken"]["secure"] is True


def test_django_deploy_checks_pass_with_production_settings(tmp_path: Path) -> None:
    env = cli_env(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        tmp_path / "var",
        BACKOFFICE_SECRET_KEY="x" * 20 + "a-long-random-production-secret-0123456789",
        BACKOFFICE_ALLOWED_HOSTS="backoffice.example.com",
        BACKOFFICE_SSL_REDIRECT="1",
    )
    # #13: links and tokens go by mail; on the console they would end up in the log
    console = run_cli("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert console.returncode != 0 and "accounts.W001" in console.stdout + console.stderr
    env["BACKOFFICE_EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
    result = run_cli("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
