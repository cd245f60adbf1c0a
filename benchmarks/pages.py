#!/usr/bin/env python3
"""The pages people open all day, on a large PostgreSQL database, beside ``/healthz``.

    .venv/bin/python benchmarks/pages.py [--cases 100000] [--events 1000000] [--repeat 5]
    .venv/bin/python benchmarks/pages.py --demo [--repeat 9] [--budget-ms 100]

Creates a scratch database with the demo bank, ``--cases`` payment cases (most released,
a fifth waiting for release, some rejected or drafts) and ``--events`` chained audit
events (COPY, as ``benchmarks/audit_verify.py`` does). Then, in this process, it requests
the inbox, a case page, the cases list and the audit list as each kind of person
(market, back office, board, compliance, internal audit) through Django's test client,
``--repeat`` times each, and prints for each page the median server time, the ratio to
``/healthz`` measured the same way in the same run, and the number of SQL statements.
Fails (exit 1) when a page answers with an error or needs more than ``--max-queries``.

``--demo`` (#19 "Server time") measures at the demo's size instead: the demo bank exactly as
``backoffice demo`` sets it up (SQLite in a scratch directory), every main page of each
persona's day (the pages the browser tests visit, ``tests/browser/test_phones.JOURNEYS``),
each against the budget of ``--budget-ms`` (by the request's CPU time: on a busy machine the
wall time mostly measures the others) and beside ``/healthz`` from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = os.environ.get(
    "BACKOFFICE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MAKERS = ("anna.schmidt", "lukas.becker", "julia.wagner", "felix.hoffmann", "paul.meyer")
CHECKERS = ("maria.keller", "lena.schulz", "sophie.krueger")
PEOPLE = {
    "market": "anna.schmidt",
    "back office": "maria.keller",
    "board": "sabine.roth",
    "compliance": "clara.vogel",
    "internal audit": "martin.jung",
}


def fill_cases(n: int) -> dict[str, int]:
    """COPY ``n`` payment cases with their events; returns an open case of each maker."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from backoffice.cases.models import Process
    from backoffice.core.payload import payload_hash

    process = Process.objects.get(key="payment-release")
    users = dict(get_user_model().objects.values_list("username", "pk"))
    definition = json.dumps(process.definition)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    case_columns = (
        "id, created, last_updated, process_id, definition, maker_id, status, current_step, "
        "payload, payload_hash, title, amount, currency, version"
    )
    event_columns = (
        "case_id, seq, at, kind, actor, on_behalf_of, step, payload_hash, payload, comment, "
        "board, tier, data"
    )
    first_open: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM cases_case")
        start = cursor.fetchone()[0]
        raw = cursor.cursor
        cases: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        for i in range(1, n + 1):
            case_id = start + i
            maker = MAKERS[i % len(MAKERS)]
            checker = CHECKERS[i % len(CHECKERS)]
            amount = f"{100 + (i * 7919) % 9800}.00"
            payload = {
                "creditor": f"Supplier {i % 5000}",
                "iban": "DE89370400440532013000",
                "amount": {"amount": amount, "currency": "EUR"},
                "value_date": "2026-12-15",
                "purpose": f"Invoice {i}",
                "beneficiary": None,
            }
            digest = payload_hash(payload)
            at = t0 + timedelta(minutes=i)
            kind = i % 20
            status, step = (
                ("submitted", "release")
                if kind < 4
                else ("rejected", "")
                if kind == 4
                else ("draft", "")
                if kind == 5
                else ("released", "")
            )
            if status == "submitted":
                first_open.setdefault(maker, case_id)
            cases.append(
                (
                    case_id,
                    at,
                    at,
                    process.pk,
                    definition,
                    users[maker],
                    status,
                    step,
                    json.dumps(payload),
                    digest,
                    payload["creditor"],
                    amount,
                    "EUR",
                    1,
                )
            )
            history = [("started", maker, "", digest, json.dumps(payload), "")]
            if status != "draft":
                history.append(("submitted", maker, "", digest, None, ""))
            if status == "released":
                history += [
                    ("approved", checker, "release", digest, None, "below 10,000"),
                    ("released", checker, "", digest, None, ""),
                ]
            if status == "rejected":
                history.append(("rejected", checker, "release", digest, None, ""))
            for seq, (event, actor, on_step, hashed, body, tier) in enumerate(history, 1):
                events.append(
                    (
                        case_id,
                        seq,
                        at,
                        event,
                        actor,
                        "",
                        on_step,
                        hashed,
                        body,
                        "",
                        False,
                        tier,
                        "{}",
                    )
                )
        with raw.copy(f"COPY cases_case ({case_columns}) FROM STDIN") as copy:
            for row in cases:
                copy.write_row(row)
        with raw.copy(f"COPY cases_caseevent ({event_columns}) FROM STDIN") as copy:
            for row in events:
                copy.write_row(row)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
            "(SELECT MAX(id) FROM cases_case))"
        )
        cursor.execute("ANALYZE cases_case")
        cursor.execute("ANALYZE cases_caseevent")
    return first_open


def kept_open_cases() -> dict[str, int]:
    """The first open case of each maker in a database an earlier ``--keep`` run filled."""
    from backoffice.cases.models import Case

    open_cases: dict[str, int] = {}
    for pk, maker in (
        Case.objects.filter(status="submitted").order_by("pk").values_list("pk", "maker__username")
    ):
        open_cases.setdefault(maker, pk)
    return open_cases


def time_page(client: Any, path: str, repeat: int) -> tuple[float, int, int]:
    """Median seconds, SQL statements of the last request, and its status code."""
    seconds, _, queries, status = time_page_cpu(client, path, repeat)
    return seconds, queries, status


def time_page_cpu(client: Any, path: str, repeat: int) -> tuple[float, float, int, int]:
    """Median wall seconds, median CPU seconds of this process, SQL statements of the last
    request, and its status code.

    With SQLite the database works in this process too, so the CPU time is the whole
    request's work: on a busy machine it is what a quiet one would take, give or take the
    caches, while the wall time also holds the waits for a core.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, cpu = [], []
    status = queries = 0
    client.get(path)  # warm: the first request of a process loads what the others reuse
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        status, queries = response.status_code, len(captured)
    return statistics.median(seconds), statistics.median(cpu), queries, status


def setup_django(database_url: str, var: Path) -> None:
    """Django on ``database_url``, answering the test client over plain http."""
    os.environ.update(
        BACKOFFICE_DATABASE_URL=database_url,
        BACKOFFICE_VAR_DIR=str(var),
        BACKOFFICE_ALLOWED_HOSTS="testserver",
        BACKOFFICE_SSL_REDIRECT="0",
        DJANGO_SETTINGS_MODULE="backoffice.settings",
    )
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max-queries", type=int, default=12)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="server to create a scratch DB on")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the filled database (bo_pages_bench_kept) and reuse it on the next --keep run",
    )
    parser.add_argument("--demo", action="store_true", help="the demo bank's size, on SQLite")
    parser.add_argument("--budget-ms", type=float, default=100.0, help="with --demo")
    args = parser.parse_args()
    if args.demo:
        demo_pages(args.repeat, args.budget_ms, args.max_queries)
        return

    import psycopg

    server = urlparse(args.postgres)
    name = "bo_pages_bench_kept" if args.keep else f"bo_pages_bench_{os.getpid()}"
    admin = {
        "host": server.hostname or "127.0.0.1",
        "port": server.port or 5432,
        "user": server.username or "postgres",
        "dbname": "postgres",
    }
    with psycopg.connect(**admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    reuse = bool(exists)
    var = Path(tempfile.mkdtemp(prefix="bo-pages-bench-"))
    setup_django(f"postgresql://{admin['user']}@{admin['host']}:{admin['port']}/{name}", var)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from backoffice.ops.management.commands.init import DEMO_POLICY
    from backoffice.org.services import do_load_policy

    failures: list[str] = []
    rows: list[tuple[str, str, float, int, int]] = []
    try:
        call_command("migrate", verbosity=0)
        if reuse:
            open_cases = kept_open_cases()
            print(f"  reusing {name} (filled by an earlier --keep run)")
        else:
            do_load_policy(DEMO_POLICY.read_bytes(), str(DEMO_POLICY), actor="benchmark")
            started = time.perf_counter()
            open_cases = fill_cases(args.cases)
            print(f"  {args.cases:,} cases: {time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            fill_audit(args.events)
            print(f"  {args.events:,} audit events: {time.perf_counter() - started:.1f} s")
        users = get_user_model().objects
        healthz, _, _ = time_page(Client(), "/healthz", args.repeat)
        for kind, username in PEOPLE.items():
            client = Client()
            client.force_login(users.get(username=username))
            # the market officer opens her own case; the others one they may release or read
            open_case = open_cases.get(username, open_cases[MAKERS[1]])
            for label, path in (
                ("inbox", "/inbox/"),
                ("case page", f"/cases/{open_case}/"),
                ("cases list", "/cases/"),
                ("audit list", "/audit/"),
                # #19: sorted by a header, filtered by a picked person; the picker itself
                ("cases by title", "/cases/?sort=title"),
                ("audit by actor", f"/audit/?sort=actor&actor={MAKERS[0]}"),
                ("person picker", "/organisation/people/?q=an"),
            ):
                seconds, queries, status = time_page(client, path, args.repeat)
                rows.append((kind, label, seconds, queries, status))
                if status >= 500 or queries > args.max_queries:
                    failures.append(f"{kind} {label}: HTTP {status}, {queries} queries")
    finally:
        connection.close()
        if not args.keep:
            with psycopg.connect(**admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(var, ignore_errors=True)

    print()
    print(
        f"PostgreSQL, {args.cases:,} cases, {args.events:,} audit events; median of "
        f"{args.repeat} requests in-process; /healthz {healthz * 1000:.1f} ms"
    )
    print("| person | page | status | ms | x /healthz | SQL statements |")
    print("|---|---|---:|---:|---:|---:|")
    for kind, label, seconds, queries, status in rows:
        print(
            f"| {kind} | {label} | {status} | {seconds * 1000:.1f} | {seconds / healthz:.1f} "
            f"| {queries} |"
        )
    if failures:
        print("failed:", *failures, sep="\n  ")
        raise SystemExit(1)


def demo_pages(repeat: int, budget_ms: float, max_queries: int) -> None:
    """#19: every main page of each persona's day at the demo's size, against the budget."""
    var = Path(tempfile.mkdtemp(prefix="bo-pages-demo-"))
    setup_django(f"sqlite:///{var / 'backoffice.sqlite3'}", var)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from backoffice.cases.models import Case
    from backoffice.credit.models import CreditDecision
    from tests.browser.test_phones import JOURNEYS

    rows: list[tuple[str, str, float, float, int, int]] = []
    failures: list[str] = []
    try:
        started = time.perf_counter()
        call_command("demo", no_serve=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
        print(f"  demo bank set up in {time.perf_counter() - started:.1f} s", flush=True)
        longest = Case.objects.annotate(n=Count("events")).order_by("-n", "pk").first()
        credit = CreditDecision.objects.order_by("pk").first()
        assert longest is not None and credit is not None
        cases = Case.objects.count()
        healthz, _, _ = time_page(Client(), "/healthz", repeat)
        users = get_user_model().objects
        for persona, paths in sorted(JOURNEYS.items()):
            client = Client()
            client.force_login(users.get(username=persona))
            for path in paths:
                url = path.format(case=longest.pk, credit=credit.case_id)
                seconds, cpu, queries, status = time_page_cpu(client, url, repeat)
                rows.append((persona, url, seconds, cpu, queries, status))
                if status >= 400 or cpu * 1000 > budget_ms:
                    failures.append(f"{persona} {url}: HTTP {status}, CPU {cpu * 1000:.1f} ms")
    finally:
        connection.close()
        shutil.rmtree(var, ignore_errors=True)

    load = os.getloadavg()
    print()
    print(
        f"SQLite, the demo bank ({cases} cases); median of {repeat} requests in-process; "
        f"/healthz {healthz * 1000:.1f} ms; budget {budget_ms:.0f} ms; "
        f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print("| person | page | status | wall ms | CPU ms | x /healthz | SQL statements | budget |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for persona, url, seconds, cpu, queries, status in rows:
        verdict = "ok" if cpu * 1000 <= budget_ms else "OVER"
        print(
            f"| {persona} | {url} | {status} | {seconds * 1000:.1f} | {cpu * 1000:.1f} "
            f"| {seconds / healthz:.1f} | {queries} | {verdict} |"
        )
    over_queries = [r for r in rows if r[4] > max_queries]
    if over_queries:
        print(f"more than {max_queries} statements:", *(f"{r[0]} {r[1]}" for r in over_queries))
    if failures:
        print("over the budget or failed:", *failures, sep="\n  ")
        raise SystemExit(1)


def fill_audit(n: int) -> None:
    """Append ``n`` events from the audit benchmark's generator after the policy load's.

    Their sequence numbers are shifted past the trail's head; the pages read rows and do
    not verify them, so the chain need not continue from the head.
    """
    from audit_verify import events
    from django.db import connection, transaction

    columns = (
        "seq, at, actor, on_behalf_of, action, object_type, object_id, before, after, "
        "reason, request_id, hash, prev_hash"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditevent")
        offset = cursor.fetchone()[0]
        with cursor.cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for row in events(n):
                copy.write_row((row[0] + offset, *row[1:]))
        cursor.execute("ANALYZE audit_auditevent")


if __name__ == "__main__":
    main()
