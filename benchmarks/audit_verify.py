"""How fast `audit verify` is, as a share of raw SHA-256 throughput over the same bytes.

    .venv/bin/python benchmarks/audit_verify.py [--events 1000000] [--repeat 2] [--postgres URL]

Generates N events (a chain with a signed checkpoint at its head) into a scratch
PostgreSQL database, verifies them from the database, exports them to JSONL and
verifies the export, then hashes the same canonical bytes with plain hashlib.sha256.
The figures are the two ratios of #14 (and, #19, the first again with the progress
callback a background job passes): events verified per second from PostgreSQL and
from the export, as a percentage of events hashed per second (targets: 15 % and 25 %).
Each timed phase runs ``--repeat`` times and counts its fastest run, the baseline too:
the machine is shared, and the fastest run is the one least disturbed. Peak memory is
the process's resident high-water mark during each phase (reset before it), so
constant-memory streaming shows as a flat number.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
DEFAULT_PG = os.environ.get(
    "BACKOFFICE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ACTIONS = ("case.created", "case.voted", "case.released", "org.membership.changed")
PEOPLE = ("anna.schmidt", "maria.keller", "lena.schulz", "max.weber", "jonas.fischer")


def rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(label: str, work: Callable[[], Any], repeat: int = 1) -> tuple[Any, float, int]:
    """Run ``work`` ``repeat`` times; its result, the fastest run's seconds, peak RSS growth."""
    best, peak, result = float("inf"), 0, None
    for _ in range(repeat):
        try:  # Linux: reset the high-water mark so the peak is this phase's alone
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            pass
        base = rss_kib("VmRSS")
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
        best, peak = min(best, seconds), max(peak, max(rss_kib("VmHWM") - base, 0) // 1024)
        print(f"  {label}: {seconds:.2f} s", flush=True)
    return result, best, peak


def events(n: int) -> Iterator[tuple[Any, ...]]:
    """Rows for COPY, chained as record() would chain them."""
    from backoffice.core.audit import GENESIS_HASH, ChainedEvent, event_hash

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        case = seq // 7
        chained = ChainedEvent(
            seq=seq,
            at=t0 + timedelta(milliseconds=seq * 37),
            actor=PEOPLE[seq % len(PEOPLE)],
            on_behalf_of=PEOPLE[(seq + 2) % len(PEOPLE)] if seq % 50 == 0 else "",
            action=ACTIONS[seq % len(ACTIONS)],
            object_type="case",
            object_id=str(case),
            before=None if seq % 7 == 0 else {"state": "draft", "votes": seq % 7 - 1},
            after={
                "state": "voted",
                "votes": seq % 7,
                "amount": f"{(case * 7919) % 10_000_000}.00",
                "currency": "EUR",
                "unit": "corporate-clients",
            },
            reason="second vote" if seq % 3 == 0 else "",
            request_id=uuid.UUID(int=seq).hex,
            prev_hash=prev,
        )
        prev = event_hash(chained)
        d = chained.as_dict()
        yield (
            seq,
            chained.at,
            d["actor"],
            d["on_behalf_of"],
            d["action"],
            d["object_type"],
            d["object_id"],
            _json(d["before"]),
            _json(d["after"]),
            d["reason"],
            d["request_id"],
            prev,  # the hash (prev_hash is in d and goes below)
            d["prev_hash"],
        )


def _json(value: Any) -> str | None:
    import json

    return None if value is None else json.dumps(value)


def fill(n: int, key: Any) -> None:
    """COPY n chained events and one signed checkpoint of the head into the database, vacuum."""
    from django.db import connection, transaction

    from backoffice.core.audit_sign import sign_checkpoint

    columns = (
        "seq, at, actor, on_behalf_of, action, object_type, object_id, before, after, "
        "reason, request_id, hash, prev_hash"
    )
    head: tuple[Any, ...] = ()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for row in events(n):
                copy.write_row(row)
                head = row
        at = datetime.now(UTC)
        signed = sign_checkpoint(key, head[0], head[11], at.isoformat())
        cursor.execute(
            "INSERT INTO audit_checkpoint (seq, hash, at, key, signature) VALUES (%s,%s,%s,%s,%s)",
            [signed.seq, signed.hash, at, signed.key, signed.signature],
        )
    # As a trail in use is: vacuumed, hint bits set, written out. Otherwise autovacuum
    # (woken by a million new rows) and the checkpointer compete with the phases measured.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditevent, audit_checkpoint")
        cursor.execute("CHECKPOINT")


def hashlib_baseline(path: Path, repeat: int = 1) -> tuple[int, int, float]:
    """(events, bytes, seconds hashing): sha256 of each event's canonical bytes, nothing else.

    The bytes are built apart (json, the reference route) into a scratch file, one event a
    line (canonical JSON holds no raw newline). Each run reads them back 10,000 at a time
    and times only the hashing; like the other phases, the fastest of ``repeat`` runs counts.
    """
    import json

    from backoffice.core.audit import HASHED_FIELDS, canonical_json

    count = size = 0
    canonical = path.with_suffix(".canonical")
    with path.open("rb") as lines, canonical.open("wb") as out:
        for line in lines:
            record = json.loads(line)
            if record.get("kind") != "event":
                continue
            data = canonical_json({name: record[name] for name in HASHED_FIELDS})
            out.write(data + b"\n")
            count, size = count + 1, size + len(data)

    def one_run() -> float:
        sha256, seconds = hashlib.sha256, 0.0
        with canonical.open("rb") as lines:
            while batch := [line[:-1] for line in islice(lines, 10_000)]:
                start = time.perf_counter()
                for data in batch:
                    sha256(data).hexdigest()
                seconds += time.perf_counter() - start
        return seconds

    try:
        runs = [one_run() for _ in range(repeat)]
    finally:
        canonical.unlink()
    print(f"  hashlib.sha256 over the same bytes: {', '.join(f'{r:.2f} s' for r in runs)}")
    return count, size, min(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per phase; the fastest counts")
    parser.add_argument("--postgres", default=DEFAULT_PG, help="server to create a scratch DB on")
    parser.add_argument("--keep", action="store_true", help="keep the database and the export")
    args = parser.parse_args()

    import psycopg

    server = urlparse(args.postgres)
    name = f"bo_audit_bench_{os.getpid()}"
    admin = {
        "host": server.hostname or "127.0.0.1",
        "port": server.port or 5432,
        "user": server.username or "postgres",
        "dbname": "postgres",
    }
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    var = Path(tempfile.mkdtemp(prefix="bo-audit-bench-"))
    os.environ.update(
        BACKOFFICE_DATABASE_URL=f"postgresql://{admin['user']}@{admin['host']}:{admin['port']}/{name}",
        BACKOFFICE_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="backoffice.settings",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from backoffice.audit.exports import ExportScope, export_log
    from backoffice.audit.queries import verify_database
    from backoffice.core.audit_sign import generate_private_key
    from backoffice.core.audit_verify import verify_export

    n = args.events
    DATA.mkdir(parents=True, exist_ok=True)
    export = DATA / f"audit-{n}.jsonl"
    key = generate_private_key()
    try:
        call_command("migrate", verbosity=0)
        print(f"audit verify benchmark, {n:,} events, PostgreSQL {connection.pg_version}")
        measure("generate and COPY into PostgreSQL", lambda: fill(n, key))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('audit_auditevent')")
            table_bytes = cursor.fetchone()[0]
        from_db, db_s, db_mem = measure(
            "verify from PostgreSQL", lambda: verify_database([key.public_key()]), args.repeat
        )
        assert from_db.ok and from_db.events == n and from_db.checkpoints == 1, from_db.summary()
        # #19: the same with the progress callback a background job passes (every 1,000)
        told: list[int] = []
        _, progress_s, progress_mem = measure(
            "verify from PostgreSQL, with progress",
            lambda: verify_database([key.public_key()], progress=told.append),
            args.repeat,
        )
        assert told and told[-1] == n, told[-3:]

        def write() -> int:
            with export.open("w", encoding="utf-8") as out:
                count = export_log(out, "jsonl", ExportScope())
                out.flush()
                os.fsync(out.fileno())  # no writeback of 530 MB during the next phase
            return count

        _, export_s, export_mem = measure("export to JSONL", write)

        def read() -> Any:
            with export.open("rb") as lines:
                return verify_export(lines, public_keys=[key.public_key()])

        from_file, file_s, file_mem = measure(
            "verify from JSONL (no Django needed)", read, args.repeat
        )
        assert from_file.ok and from_file.head_hash == from_db.head_hash, from_file.summary()
        export_bytes = export.stat().st_size
        count, size, hash_s = hashlib_baseline(export, args.repeat)
        assert count == n
    finally:
        connection.close()
        if not args.keep:
            with psycopg.connect(**admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            export.unlink(missing_ok=True)
            shutil.rmtree(var, ignore_errors=True)

    hash_rate = n / hash_s
    print()
    print(
        f"data: {size / 1e6:,.0f} MB of canonical JSON ({size / n:.0f} bytes/event); "
        f"table {table_bytes / 1e6:,.0f} MB with indexes; export {export_bytes / 1e6:,.0f} MB"
    )
    print(f"{'':34} {'events/s':>11} {'of SHA-256':>11} {'target':>7} {'peak RSS':>9}")
    for label, seconds, memory, target in (
        ("verify from PostgreSQL", db_s, db_mem, "15 %"),
        ("verify from PostgreSQL, progress", progress_s, progress_mem, "15 %"),
        ("verify from JSONL export", file_s, file_mem, "25 %"),
        ("export to JSONL (for reference)", export_s, export_mem, ""),
    ):
        rate = n / seconds
        print(
            f"{label:34} {rate:11,.0f} {100 * rate / hash_rate:9.1f} % {target:>7} {memory:5d} MiB"
        )
    print(
        f"{'hashlib.sha256, same bytes':34} {hash_rate:11,.0f} {100:9.1f} % {'':>7} "
        f"({size / hash_s / 1e6:,.0f} MB/s)"
    )
    print(f"head #{from_db.head_seq} {from_db.head_hash}")


if __name__ == "__main__":
    main()
