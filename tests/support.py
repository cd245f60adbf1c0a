"""Helpers for tests that run the real ``backoffice`` command and server as subprocesses, and
for walking the pages of a list."""

from __future__ import annotations

import atexit
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any

from django.conf import settings

#: "Next page" in an HTML list, and the ``Link`` header of a JSON list (base/pages.py).
NEXT_PAGE = re.compile(r'<a href="([^"]+)" rel="next">')
LINK_NEXT = re.compile(r'<http://testserver(/[^>]*)>; rel="next"')


def api_pages(client: Any, url: str) -> list[list[Any]]:
    """The rows of each page of a JSON list, following its ``Link`` header to the last page."""
    pages: list[list[Any]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content[:300]
        rows = response.json()
        assert isinstance(rows, list)  # a paged list stays a plain JSON array
        pages.append(rows)
        link = response.get("Link")
        found = LINK_NEXT.fullmatch(link or "")
        assert (found is None) == (link is None), link
        next_url = found[1] if found else None
        assert len(pages) < 50, "the pages never end"
    return pages


def html_pages(client: Any, url: str) -> list[tuple[str, str]]:
    """Each page of an HTML list as (the URL asked, its HTML), following "Next page" links."""
    pages: list[tuple[str, str]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.content[:300]
        html = response.content.decode()
        pages.append((next_url, html))
        found = NEXT_PAGE.search(html)
        next_url = unescape(found[1]) if found else None
        assert len(pages) < 50, "the pages never end"
    return pages


BACKOFFICE = shutil.which("backoffice", path=str(Path(sys.executable).parent)) or "backoffice"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: per worker: a database migrated once, that ``scratch_database(migrated=True)`` copies
_migrated_template: dict[str, str] = {}


def _admin_connection() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return dict(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres"
    )


def _postgres_url(name: str) -> str:
    admin = _admin_connection()
    user = urllib.parse.quote(admin["user"] or "postgres")
    return f"postgresql://{user}@{admin['host']}:{admin['port']}/{name}"


def _template(tmp_root: Path) -> str:
    """A migrated, otherwise empty database of the run's kind, made once per worker: the
    SQLite file's path, or the PostgreSQL database's name (dropped when the worker ends)."""
    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    if "template" in _migrated_template:
        return _migrated_template["template"]
    if sqlite:
        folder = Path(tempfile.mkdtemp(prefix="backoffice-template-"))
        atexit.register(shutil.rmtree, folder, True)
        target, url = str(folder / "template.sqlite3"), f"sqlite:///{folder / 'template.sqlite3'}"
    else:
        import psycopg

        target = f"backoffice_scratch_template_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(**_admin_connection(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{target}"')
        atexit.register(_drop_postgres, target)
        url = _postgres_url(target)
    migrated = run_cli("migrate", "--noinput", env=cli_env(url, tmp_root / "template-var"))
    assert migrated.returncode == 0, migrated.stderr
    _migrated_template["template"] = target
    return target


def _drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(**_admin_connection(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_database(tmp_path: Path, *, migrated: bool = False) -> Iterator[str]:
    """A database URL of the same kind as the test run's, dropped afterwards: empty, or
    with ``migrated`` a copy of one migrated once per worker (a test about what ``init``
    does with a policy need not wait for thirty migrations again)."""
    sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
    template = _template(tmp_path.parent) if migrated else None
    if sqlite:
        if template:
            shutil.copyfile(template, tmp_path / "scratch.sqlite3")
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    import psycopg

    name = f"backoffice_scratch_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**_admin_connection(), autocommit=True) as conn:
        copy = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield _postgres_url(name)
    finally:
        _drop_postgres(name)


def cli_env(database_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("BACKOFFICE_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        BACKOFFICE_DATABASE_URL=database_url,
        BACKOFFICE_VAR_DIR=str(var_dir),
        BACKOFFICE_SSL_REDIRECT="0",  # the tests speak plain HTTP to the server they start
        DJANGO_SETTINGS_MODULE="backoffice.settings",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BACKOFFICE, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        input=stdin,
    )


@contextmanager
def running_server(env: dict[str, str], *extra: str) -> Iterator[str]:
    """``backoffice serve`` on a free port; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [BACKOFFICE, "serve", "--port", str(port), "--workers", "1", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start listening")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_get(
    url: str, opener: urllib.request.OpenerDirector | None = None
) -> tuple[int, str, dict[str, str]]:
    opener = opener or urllib.request.build_opener()
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def browser_login(
    base: str, username: str, password: str
) -> tuple[urllib.request.OpenerDirector, str]:
    """Log in through the real login form (CSRF cookie and token) and return the home page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    _, page, _ = http_get(f"{base}/login/", opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "login form without CSRF token"
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(
        f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"}
    )
    with opener.open(request, timeout=30) as response:
        return opener, response.read().decode()


HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"

#: The response header the balancer adds: the name of the node that answered.
NODE_HEADER = "X-Backend-Server"
#: A request header that sends the request to the named node instead of the next in turn.
PIN_HEADER = "X-Backoffice-Node"


def haproxy_config(port: int, nodes: dict[str, int], *, keep_alive: bool = False) -> str:
    """HAProxy in front of ``nodes`` (name → port): round robin, one request at a time.

    ``option forwardfor`` appends the client's address to X-Forwarded-For, so the nodes
    run with ``BACKOFFICE_TRUSTED_PROXIES=1``. Without ``keep_alive`` every request gets its
    own connection to a node (``http-server-close``, no reuse), so consecutive requests
    really alternate. Each answer names its node in ``X-Backend-Server``; a request with
    ``X-Backoffice-Node: NAME`` goes to that node (a test's way to say where).
    """
    servers = "\n".join(
        f"    server {name} 127.0.0.1:{node_port} maxconn 64" for name, node_port in nodes.items()
    )
    pins = "\n".join(
        f"    use-server {name} if {{ req.hdr({PIN_HEADER}) -m str {name} }}" for name in nodes
    )
    close = "    option http-server-close\n    http-reuse never"
    reuse = "    http-reuse safe" if keep_alive else close
    return f"""\
global
    nbthread 1
    maxconn 1024

defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout queue 120s
    option forwardfor
{reuse}

frontend web
    bind 127.0.0.1:{port}
    default_backend nodes

backend nodes
    balance roundrobin
{pins}
    http-response set-header {NODE_HEADER} %s
{servers}
"""


@contextmanager
def running_balancer(
    directory: Path, nodes: dict[str, int], *, keep_alive: bool = False
) -> Iterator[str]:
    """HAProxy (Debian's) in the foreground in front of ``nodes``; yields its base URL."""
    port = free_port()
    config = directory / "haproxy.cfg"
    config.write_text(haproxy_config(port, nodes, keep_alive=keep_alive))
    check = subprocess.run([HAPROXY, "-c", "-q", "-f", str(config)], capture_output=True, text=True)
    if check.returncode:
        raise RuntimeError(f"haproxy refused its configuration: {check.stderr}{check.stdout}")
    process = subprocess.Popen(
        [HAPROXY, "-f", str(config), "-db"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_listening(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def _wait_listening(process: subprocess.Popen[str], port: int) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"exited: {process.stdout.read() if process.stdout else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_nodes(envs: dict[str, dict[str, str]], *extra: str) -> Iterator[dict[str, int]]:
    """One ``backoffice serve`` per name in ``envs``, each with its own environment (give
    them one database and one SECRET_KEY) on its own free port; yields name → port once
    every one listens."""
    ports: dict[str, int] = {}
    while len(set(ports.values())) < len(envs):
        ports = {name: free_port() for name in envs}
    processes: list[subprocess.Popen[str]] = []
    try:
        for name, env in envs.items():
            processes.append(
                subprocess.Popen(
                    [BACKOFFICE, "serve", "--port", str(ports[name]), "--workers", "1", *extra],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        for process, port in zip(processes, ports.values(), strict=True):
            _wait_listening(process, port)
        yield ports
    finally:
        for process in processes:
            _stop(process)
