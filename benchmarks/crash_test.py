#!/usr/bin/env python3
"""Kill the server with SIGKILL in the middle of four-eyes traffic, restart it, and check
that nothing committed was lost and nothing was half-done.

    .venv/bin/python benchmarks/crash_test.py [--kills 10] [--clients 8] [--interval 3]

On a fresh PostgreSQL database: ``backoffice serve`` (its whole process group) is killed
``--kills`` times while clients start and release payment cases with Idempotency-Keys,
retrying through the outages. Afterwards:
- ``backoffice cases check``: every case agrees with its events and audit events;
- ``backoffice audit verify``: the hash chain is intact;
- every success a client saw is in the database (started cases exist, releases are
  released), and no request was carried out twice (one case per start key).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
PASSWORD = "musterbank-demo"  # noqa: S105 - the published demo password (backoffice.ops.demo)
MAKERS = ["anna.schmidt", "lukas.becker", "julia.wagner", "felix.hoffmann", "paul.meyer"]
CHECKERS = ["lena.schulz", "maria.keller", "sophie.krueger", "eva.hahn"]
PG = "postgresql://postgres@127.0.0.1:5432"


def _cli(
    *args: str, env: dict[str, str], check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "backoffice"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        input=stdin,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Report:
    kills: int = 0
    requests: int = 0
    retries: int = 0
    started: dict[str, int] = field(default_factory=dict)  # start key -> case id seen by client
    released: set[int] = field(default_factory=set)  # cases a client saw released
    errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problems


class Server:
    def __init__(self, env: dict[str, str], port: int, workers: int) -> None:
        self.env, self.port, self.workers = env, port, workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                str(BIN / "backoffice"),
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--threads",
                "4",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: SIGKILL reaches every worker
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not come up")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)


def _post(
    port: int,
    token: str,
    path: str,
    body: dict[str, Any],
    key: str,
    report: Report,
    stop: threading.Event,
) -> tuple[int, dict[str, Any]] | None:
    """POST until a response arrives (the server may be down); the same key on every try."""
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "POST",
                path,
                json.dumps(body),
                {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
            )
            response = conn.getresponse()
            data = json.loads(response.read() or b"{}")
            conn.close()
            report.requests += 1
            return response.status, data
        except (OSError, http.client.HTTPException, ValueError):
            report.retries += 1
            time.sleep(0.2)
    return None


def _client(
    index: int,
    port: int,
    tokens: dict[str, str],
    report: Report,
    stop: threading.Event,
    lock: threading.Lock,
) -> None:
    maker = tokens[MAKERS[index % len(MAKERS)]]
    checker = tokens[CHECKERS[index % len(CHECKERS)]]
    while not stop.is_set():
        key = uuid.uuid4().hex
        payload = {
            "creditor": f"Crash {key[:8]}",
            "iban": "DE89370400440532013000",
            "amount": {"amount": "700.00", "currency": "EUR"},
            "value_date": "2026-12-01",
            "purpose": "crash test",
        }
        started = _post(
            port,
            maker,
            "/api/v1/cases",
            {"process": "payment-release", "payload": payload, "submit": True},
            f"start-{key}",
            report,
            stop,
        )
        if started is None:
            return
        status, body = started
        if status != 201:
            with lock:
                report.errors.append(f"start {status}: {body.get('code')}")
            continue
        with lock:
            report.started[key] = body["id"]
        released = _post(
            port,
            checker,
            f"/api/v1/cases/{body['id']}/actions",
            {"action": "release"},
            f"release-{key}",
            report,
            stop,
        )
        if released is None:
            return
        status, body = released
        if status == 200 and body.get("status") == "released":
            with lock:
                report.released.add(body["id"])
        else:
            with lock:
                report.errors.append(f"release {status}: {body.get('code')}")


def run(kills: int = 10, clients: int = 8, interval: float = 3.0, workers: int = 2) -> Report:
    database = f"bo_crash_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["psql", f"{PG}/postgres", "-q", "-c", f'CREATE DATABASE "{database}"'], check=True
    )
    var = Path(tempfile.mkdtemp(prefix="bo-crash-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")} | {
        "BACKOFFICE_DATABASE_URL": f"{PG}/{database}",
        "BACKOFFICE_VAR_DIR": str(var),
        "BACKOFFICE_PLAIN_HTTP": "1",
    }
    report = Report()
    server = Server(env, _free_port(), workers)
    try:
        # #13: each demo person makes their own token with the demo password
        _cli("demo", "--no-serve", env=env)
        tokens = {
            u: _cli(
                "token", "create", u, "--password-stdin", env=env, stdin=PASSWORD
            ).stdout.strip()
            for u in MAKERS + CHECKERS
        }
        server.start()
        stop, lock = threading.Event(), threading.Lock()
        threads = [
            threading.Thread(target=_client, args=(i, server.port, tokens, report, stop, lock))
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for _ in range(kills):
            time.sleep(interval)
            server.kill()
            report.kills += 1
            time.sleep(0.3)
            server.start()
        time.sleep(interval)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        server.stop()
        check = _cli("cases", "check", env=env, check=False)
        if check.returncode:
            report.problems.append(f"cases check: {check.stdout.strip()}")
        verify = _cli("audit", "verify", env=env, check=False)
        if verify.returncode:
            report.problems.append(f"audit verify: {verify.stdout.strip()} {verify.stderr.strip()}")
        ids = ",".join(str(i) for i in report.started.values()) or "0"
        sql = (  # integers the server itself returned, into our own scratch database
            f"SELECT count(*) FILTER (WHERE id IN ({ids})), "
            f"count(*) FILTER (WHERE id IN ({ids}) AND status = 'released'), "
            # the test's own cases only: the demo seeds cases of its own
            "count(*) FILTER (WHERE payload->>'creditor' LIKE 'Crash %'), "
            "count(DISTINCT payload->>'creditor') "
            "FILTER (WHERE payload->>'creditor' LIKE 'Crash %') FROM cases_case"
        )
        row = (
            subprocess.run(
                ["psql", f"{PG}/{database}", "-At", "-c", sql],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .split("|")
        )
        found, released, total, distinct = (int(x) for x in row)
        if found != len(set(report.started.values())):
            report.problems.append(
                f"clients saw {len(report.started)} cases started, {found} exist"
            )
        released_ids = ",".join(str(i) for i in report.released) or "0"
        sql = (  # integers the server itself returned, into our own scratch database
            f"SELECT count(*) FROM cases_case WHERE id IN ({released_ids}) AND status='released'"
        )
        seen = int(
            subprocess.run(
                ["psql", f"{PG}/{database}", "-At", "-c", sql],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
        )
        if seen != len(report.released):
            report.problems.append(
                f"clients saw {len(report.released)} releases, {seen} in the database"
            )
        if total != distinct:
            report.problems.append(
                f"{total} cases for {distinct} start requests: something ran twice"
            )
        print(
            f"kills: {report.kills}; HTTP requests answered: {report.requests}; "
            f"retries through outages: {report.retries}"
        )
        print(
            f"cases started (seen by clients): {len(report.started)}; in the database: {total}; "
            f"releases seen: {len(report.released)}; released in the database: {released}"
        )
        print(f"cases check: {check.stdout.strip()}")
        verified = verify.stdout.strip().splitlines()[0] if verify.stdout else verify.stderr
        print(f"audit verify: {verified}")
        print("RESULT:", "held" if report.ok else "FAILED", *report.errors[:5], *report.problems)
        return report
    finally:
        server.stop()
        subprocess.run(
            [
                "psql",
                f"{PG}/postgres",
                "-q",
                "-c",
                f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            ],
            check=False,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    report = run(args.kills, args.clients, args.interval, args.workers)
    raise SystemExit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
