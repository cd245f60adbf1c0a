"""#18: a real OpenID provider (node's oidc-provider, tests/oidc) started by the tests.

The tests play the browser: the Django test client is Backoffice, a ``requests`` session is
the browser at the provider, carrying the provider's cookies across the round trip.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

OIDC_DIR = Path(__file__).resolve().parents[1] / "oidc"
RP = "http://testserver"
CLIENT = {"client_id": "backoffice", "client_secret": "backoffice-test-secret"}
OTHER_CLIENT = {"client_id": "other-app", "client_secret": "other-app-secret"}
OTHER_REDIRECT = "http://other-app.invalid/callback"

ACCOUNTS: dict[str, dict[str, Any]] = {
    login: {"preferred_username": login, "email": f"{login}@idp.example", "groups": groups}
    for login, groups in {
        "lena.schulz": [],
        "anna.schmidt": ["staff"],
        "lukas.becker": ["risk-controllers"],
        "maria.keller": ["risk-controllers", "no-such-group"],
        "somebody.unknown": [],
    }.items()
}


def _installed() -> None:
    """``npm ci`` from the committed lock, once (``.ci/run`` does it too)."""
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR, check=True, timeout=600
        )


@contextmanager
def running_provider(workdir: Path, *, clock_offset_seconds: int = 0) -> Iterator[str]:
    """Start the provider with a config written here; yield its issuer URL."""
    _installed()
    config = {
        "clients": [
            {
                **CLIENT,
                "redirect_uris": [f"{RP}/oidc/callback/"],
                "post_logout_redirect_uris": [f"{RP}/login/"],
            },
            {**OTHER_CLIENT, "redirect_uris": [OTHER_REDIRECT]},
        ],
        "accounts": ACCOUNTS,
        "clock_offset_seconds": clock_offset_seconds,
    }
    path = workdir / f"oidc-{clock_offset_seconds}.json"
    path.write_text(json.dumps(config))
    process = subprocess.Popen(
        ["node", str(OIDC_DIR / "provider.mjs"), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("ready "), f"the OpenID provider did not start: {line!r}"
        yield line.removeprefix("ready ")
    finally:
        process.terminate()
        process.wait(timeout=10)


def oidc_settings(issuer: str) -> dict[str, Any]:
    return {
        "OIDC_ENABLED": True,
        "OIDC_OP_ISSUER": issuer,
        "OIDC_RP_CLIENT_ID": CLIENT["client_id"],
        "OIDC_RP_CLIENT_SECRET": CLIENT["client_secret"],
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{issuer}/auth",
        "OIDC_OP_TOKEN_ENDPOINT": f"{issuer}/token",
        "OIDC_OP_USER_ENDPOINT": f"{issuer}/me",
        "OIDC_OP_JWKS_ENDPOINT": f"{issuer}/jwks",
        "OIDC_OP_END_SESSION_ENDPOINT": f"{issuer}/session/end",
        "OIDC_RP_SIGN_ALGO": "RS256",
    }


@pytest.fixture(scope="session")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_provider(tmp_path_factory.mktemp("oidc")) as issuer:
        yield issuer


@pytest.fixture
def sso(settings: Any, provider: str) -> str:
    """Backoffice configured for the provider, as the BACKOFFICE_OIDC_* variables would."""
    for name, value in oidc_settings(provider).items():
        setattr(settings, name, value)
    return provider


def follow(browser: requests.Session, response: requests.Response) -> str | requests.Response:
    """Follow the provider's redirects; the address once it sends the browser back to
    Backoffice (or another app), or the page it stops at."""
    while response.is_redirect:
        target = urljoin(response.url, response.headers["Location"])
        if not target.startswith(str(urlsplit(response.url)._replace(path="", query="").geturl())):
            return target
        response = browser.get(target, allow_redirects=False, timeout=10)
    return response


def sign_in_at_provider(browser: requests.Session, url: str, login: str) -> str:
    """Open the provider's authorization URL; log in there as ``login`` if it asks.
    Returns where the provider sends the browser back to."""
    page = follow(browser, browser.get(url, allow_redirects=False, timeout=10))
    if isinstance(page, str):
        return page
    assert page.status_code == 200, page.text
    answer = browser.post(page.url, data={"login": login}, allow_redirects=False, timeout=10)
    back = follow(browser, answer)
    assert isinstance(back, str), back.text
    return back


def local(url: str) -> str:
    """The path and query of a Backoffice address, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def sign_on(client: Any, sso: str) -> Callable[..., Any]:
    """The whole round trip: Backoffice → provider login → Backoffice callback."""

    def _sign_on(login: str, browser: requests.Session | None = None, on: Any = None) -> Any:
        rp = on or client
        start = rp.get("/oidc/authenticate/")
        assert start.status_code == 302, start.content
        assert start["Location"].startswith(f"{sso}/auth?")
        query = parse_qs(urlsplit(start["Location"]).query)
        assert query["code_challenge_method"] == ["S256"], "PKCE is used"
        back = sign_in_at_provider(browser or requests.Session(), start["Location"], login)
        assert back.startswith(f"{RP}/oidc/callback/"), back
        return rp.get(local(back))

    return _sign_on


def tokens_for_client(
    issuer: str, client: dict[str, str], redirect: str, login: str
) -> dict[str, Any]:
    """A token response from the provider for another client, obtained as that client
    would (code flow with PKCE): tokens that are real, but not meant for Backoffice."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    nonce = secrets.token_urlsafe(16)
    params = {
        "client_id": client["client_id"],
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": redirect,
        "state": secrets.token_urlsafe(16),
        "nonce": nonce,
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    back = sign_in_at_provider(requests.Session(), f"{issuer}/auth?{urlencode(params)}", login)
    code = parse_qs(urlsplit(back).query)["code"][0]
    answer = requests.post(
        f"{issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": verifier,
            **client,
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {**answer.json(), "nonce": nonce}
