#!/usr/bin/env python3
"""Set up and run Backoffice on a machine that has only Python 3.11+.

    python3 dev.py demo    create .venv, install, set up the demo bank, serve http://127.0.0.1:8000
    python3 dev.py demo retail   the same for the demo retailer Musterhandel GmbH (var-retail/)
    python3 dev.py test    create .venv, install with test tools, lint, type-check, run every test
                           on SQLite and again on PostgreSQL

PostgreSQL: BACKOFFICE_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
If it is unreachable the PostgreSQL pass is reported as not run; with
BACKOFFICE_REQUIRE_POSTGRES=1 (as in CI) that is a failure.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import venv
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def run(*cmd: str | os.PathLike[str], env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, check=False)
    if result.returncode:
        raise SystemExit(result.returncode)


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project; skip when pyproject.toml and the C sources
    have not changed."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    stamp = VENV / f".installed-{extras or 'base'}"
    # the C extension (#15) is built by the install: a changed source needs a new one
    sources = [ROOT / "pyproject.toml", *sorted(ROOT.glob("backoffice/**/*.c"))]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extras}]" if extras else "."
    run(PY, "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


def postgres_reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), 2):
            return True
    except OSError:
        return False


def demo(args: list[str]) -> None:
    ensure_venv("")
    if args[:1] == ["retail"]:  # #16: the retailer, in a database of its own
        os.environ.setdefault("BACKOFFICE_VAR_DIR", str(ROOT / "var-retail"))
        args = ["--policy", "retail", *args[1:]]
    elif args[:1] == ["bank"]:
        args = args[1:]
    run(BIN / "backoffice", "demo", *args)


def test(args: list[str]) -> None:
    ensure_venv("test")
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    # strict everywhere the rules are decided or persisted: core, every app's services and
    # queries (#14); the Django plugin reads the settings
    typed = ["backoffice/core", *sorted(str(p) for p in ROOT.glob("backoffice/*/services.py"))]
    typed += sorted(str(p) for p in ROOT.glob("backoffice/*/queries.py"))
    run(BIN / "mypy", *typed, env=os.environ | {"BACKOFFICE_VAR_DIR": str(ROOT / "var" / "test")})
    base = {k: v for k, v in os.environ.items() if k != "BACKOFFICE_DATABASE_URL"}
    base["BACKOFFICE_VAR_DIR"] = str(ROOT / "var" / "test")
    # Two workers (the machines have two cores); one file's tests stay on one worker.
    parallel = ["-n", os.environ.get("BACKOFFICE_TEST_WORKERS", "2"), "--dist", "loadfile"]
    print("== tests on SQLite", flush=True)
    run(PY, "-m", "pytest", *parallel, *args, env=base)
    pg_url = os.environ.get("BACKOFFICE_TEST_POSTGRES_URL", DEFAULT_PG)
    if not postgres_reachable(pg_url):
        message = f"PostgreSQL is not reachable at {pg_url}: the PostgreSQL pass did not run"
        if os.environ.get("BACKOFFICE_REQUIRE_POSTGRES") == "1":
            raise SystemExit(message)
        print(f"== {message}", flush=True)
        return
    print("== tests on PostgreSQL", flush=True)
    # A fresh test database per run, so parallel or aborted runs never share state.
    pg_env = base | {
        "BACKOFFICE_DATABASE_URL": pg_url,
        "BACKOFFICE_TEST_DATABASE_NAME": f"backoffice_test_{os.getpid()}",
    }
    # tests/unit is the pure core: no database, nothing to repeat on PostgreSQL.
    try:
        run(PY, "-m", "pytest", *parallel, "--ignore=tests/unit", *args, env=pg_env)
    finally:
        drop_test_databases(pg_url, pg_env["BACKOFFICE_TEST_DATABASE_NAME"])


#: Drops what pytest-django could not (a connection still open at teardown), so a run never
#: leaves databases behind on the shared server.
DROP_LEFTOVERS = """
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    names = [r[0] for r in conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", (sys.argv[2] + '%',))]
    for name in names:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        print("== dropped the leftover test database", name, flush=True)
"""


def drop_test_databases(url: str, prefix: str) -> None:
    subprocess.run([str(PY), "-c", DROP_LEFTOVERS, url, prefix], cwd=ROOT, check=False)


def main() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older Python
        raise SystemExit("Backoffice needs Python 3.11 or newer")
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        raise SystemExit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
