#!/usr/bin/env python3
"""#18: kill the mail worker with SIGKILL while it sends, restart it, and count the mails.

    .venv/bin/python benchmarks/mail_crash_test.py [--kills 10] [--cases 40] [--postgres]

On a fresh database (SQLite in a temporary folder or, with ``--postgres``, a new
PostgreSQL database): the demo policy is loaded and ``--cases`` payments are submitted, each
waiting for several releasers, so the outbox holds a mail per case and releaser. Then
``backoffice worker`` sends them to a real SMTP server (aiosmtpd, here, a little slow on
purpose) and is killed with SIGKILL ``--kills`` times at random moments, restarted each time;
at the end a last worker runs until nothing is due. Counted at the SMTP server:

- lost: a mail the outbox holds that never arrived;
- duplicates: a person who got two different mails (two Message-IDs) for one event;
- resent: the same mail (same Message-ID) arriving again, because the worker died between
  the server's "250 OK" and its own commit. No SMTP client can rule that out; the mail
  is the same message, and mail stores keep one message per Message-ID.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "backoffice" / "policies" / "demo-bank.yaml"
PG = "postgresql://postgres@127.0.0.1:5432"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    """The SMTP server: every (recipient, Message-ID, key) it accepted, in order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await asyncio.sleep(0.01)  # a real server takes its time: kills land mid-send
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for rcpt in envelope.rcpt_tos:
            self.received.append(
                (rcpt, str(message["Message-ID"]), str(message["X-Backoffice-Key"]))
            )
        return "250 OK"


@dataclass
class Report:
    kills: int = 0
    expected: int = 0
    received: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    resent: int = 0
    #: mails that arrived while workers were being killed (the kills hit a worker at work)
    before_last: int = 0

    @property
    def ok(self) -> bool:
        return (
            self.kills > 0
            and 0 < self.before_last < self.expected
            and not self.lost
            and not self.duplicates
        )


def _env(var: Path, database_url: str | None, smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BACKOFFICE_VAR_DIR=str(var),
        BACKOFFICE_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        DJANGO_SETTINGS_MODULE="backoffice.settings",
        PYTHONPATH=str(ROOT),
    )
    env.pop("BACKOFFICE_DATABASE_URL", None)
    if database_url:
        env["BACKOFFICE_DATABASE_URL"] = database_url
    return env


def _cli(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "backoffice.cli", *args],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


_SEED = """
import django; django.setup()
from django.contrib.auth import get_user_model
from backoffice.base.actor import Actor
from backoffice.cases.services import do_start_case
makers = ["anna.schmidt", "lukas.becker", "julia.wagner", "felix.hoffmann", "paul.meyer"]
for n in range({cases}):
    user = get_user_model().objects.get(username=makers[n % len(makers)])
    payload = {{"creditor": f"Creditor {{n}}", "iban": "DE89 3704 0044 0532 0130 00",
               "amount": {{"amount": f"{{100 + n}}.00", "currency": "EUR"}},
               "value_date": "2026-12-01", "purpose": f"Invoice {{n}}"}}
    do_start_case(Actor(user), "payment-release", payload, submit=True).raise_if_denied()
"""

_COUNT = """
import django; django.setup()
from backoffice.notify.models import MailDelivery
from backoffice.notify.services import message_id
for d in MailDelivery.objects.select_related("user"):
    print(d.user.email, message_id(d), d.key, sep="\\t")
"""


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout


def _worker(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "backoffice.cli", "worker", "--interval", "0.1", *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def fresh_postgres(server: str = PG) -> tuple[str, Callable[[], None]]:
    """An empty PostgreSQL database of its own, and how to drop it."""
    name = f"bo_mail_crash_{os.getpid()}"
    psql = ["psql", f"{server}/postgres", "-q", "-c"]
    subprocess.run([*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
    subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True)
    return f"{server}/{name}", lambda: subprocess.run(
        [*psql, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=False
    )


def run(kills: int = 10, cases: int = 40, database_url: str | None = None) -> Report:
    from aiosmtpd.controller import Controller

    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    report = Report()
    try:
        with tempfile.TemporaryDirectory(prefix="mail-crash-") as folder:
            env = _env(Path(folder), database_url, port)
            _cli("migrate", "--no-input", env=env)
            _cli("init", "--policy", str(POLICY), "--no-bootstrap-links", env=env)
            _python(_SEED.format(cases=cases), env)
            rng = random.Random(18)
            for _ in range(kills):
                worker, seen = _worker(env), len(sink.received)
                deadline = time.monotonic() + 120
                while len(sink.received) == seen and time.monotonic() < deadline:
                    time.sleep(0.01)  # kill only a worker that is sending
                # a short while later: a fast machine must not send everything before the kills end
                time.sleep(rng.uniform(0.0, 0.1))
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()  # reaped: its pid is gone, so the next worker takes its task back
                report.kills += 1
            # distinct mails: a resend of one already there is no progress
            report.before_last = len({(rcpt, mid) for rcpt, mid, _ in sink.received})
            last = _worker(env, "--batch")
            last.wait(timeout=600)
            # a task that the outbox left for later (none here) would wait for its time
            expected = [line.split("\t") for line in _python(_COUNT, env).splitlines()]
    finally:
        controller.stop()
    report.expected = len(expected)
    report.received = len(sink.received)
    arrived = {(rcpt, mid) for rcpt, mid, _ in sink.received}
    report.lost = [f"{a} {k}" for a, mid, k in expected if (a, mid) not in arrived]
    per_event = Counter((rcpt, key) for rcpt, key in {(r, k) for r, _, k in sink.received})
    ids_per_event: dict[tuple[str, str], set[str]] = {}
    for rcpt, mid, key in sink.received:
        ids_per_event.setdefault((rcpt, key), set()).add(mid)
    report.duplicates = [f"{r} {k}" for (r, k), ids in ids_per_event.items() if len(ids) > 1]
    report.resent = report.received - len(arrived)
    assert all(n == 1 for n in per_event.values())
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database")
    args = parser.parse_args()
    url, drop = fresh_postgres() if args.postgres else (None, lambda: None)
    try:
        report = run(args.kills, args.cases, url)
    finally:
        drop()
    print(
        f"kills {report.kills}, mails expected {report.expected}, received {report.received} "
        f"({report.before_last} while workers were killed), "
        f"lost {len(report.lost)}, duplicates {len(report.duplicates)}, "
        f"resent (same Message-ID) {report.resent}"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
