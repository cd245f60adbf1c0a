#!/usr/bin/env python3
"""Four-eyes round trips through the real server on PostgreSQL, beside pgbench on the same server.

    .venv/bin/python benchmarks/four_eyes.py [--cases 2000] [--clients 8] [--workers 4]

Creates a fresh database, loads the demo bank, starts ``backoffice serve`` and lets
``--clients`` concurrent clients each start payment cases (maker token) and release them
(checker token) over HTTP. Prints round trips per second and latency percentiles, then
the TPS of ``pgbench`` (TPC-B-like, same client count) against the same PostgreSQL
server in the same run, and the ratio. Every request must succeed; errors are counted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MAKERS = ["anna.schmidt", "lukas.becker", "julia.wagner", "felix.hoffmann", "paul.meyer"]
CHECKERS = ["lena.schulz", "maria.keller", "sophie.krueger", "eva.hahn"]
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(
        ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", db, "-q", "-c", sql],
        check=True,
    )


def run(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(BIN / "backoffice"), *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def post(self, path: str, body: dict[str, object]) -> tuple[int, dict[str, object], float]:
        started = time.perf_counter()
        self.conn.request("POST", path, json.dumps(body), self.headers)
        response = self.conn.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"unparsed": raw[:300].decode(errors="replace")}
        return response.status, data, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pgbench-seconds", type=int, default=20)
    args = parser.parse_args()

    db = f"bo_bench_{uuid.uuid4().hex[:8]}"
    psql(f'CREATE DATABASE "{db}"')
    var = Path(tempfile.mkdtemp(prefix="bo-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")} | {
        "BACKOFFICE_DATABASE_URL": f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{db}",
        "BACKOFFICE_VAR_DIR": str(var),
        "BACKOFFICE_PLAIN_HTTP": "1",
    }
    server = None
    try:
        run("init", "--demo-policy", env=env)
        tokens = {
            u: run("token", "create", u, "--name", "bench", env=env).strip()
            for u in MAKERS + CHECKERS
        }
        port = 18000 + os.getpid() % 1000
        server = subprocess.Popen(
            [
                str(BIN / "backoffice"),
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(var / "server.log", "w"),  # noqa: SIM115 - lives as long as the server
        )
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        per_client = args.cases // args.clients

        def work(index: int) -> None:
            try:
                run_client(index)
            except Exception as exc:  # noqa: BLE001 - a client that dies is an error to report
                with lock:
                    errors.append(f"client {index}: {type(exc).__name__}: {exc}")

        def run_client(index: int) -> None:
            maker = Client(port, tokens[MAKERS[index % len(MAKERS)]])
            checker = Client(port, tokens[CHECKERS[index % len(CHECKERS)]])
            mine: list[float] = []
            for n in range(per_client):
                payload = {
                    "creditor": f"Supplier {index}-{n}",
                    "iban": "DE89370400440532013000",
                    "amount": {"amount": "500.00", "currency": "EUR"},
                    "value_date": "2026-12-01",
                    "purpose": "benchmark",
                }
                status, body, took = maker.post(
                    "/api/v1/cases",
                    {"process": "payment-release", "payload": payload, "submit": True},
                )
                mine.append(took)
                if status != 201:
                    errors.append(f"start {status} {body}")
                    continue
                status, body, took = checker.post(
                    f"/api/v1/cases/{body['id']}/actions", {"action": "release"}
                )
                mine.append(took)
                if status != 200 or body.get("status") != "released":
                    errors.append(f"release {status} {body}")
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        latencies.sort()
        rps = len(latencies) / elapsed
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000

        pgbench = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
        bench_db = f"{db}_pgbench"
        psql(f'CREATE DATABASE "{bench_db}"')
        subprocess.run(
            [pgbench, "-h", PG["host"], "-U", PG["user"], "-i", "-s", "10", "-q", bench_db],
            check=True,
            capture_output=True,
        )
        out = subprocess.run(
            [
                pgbench,
                "-h",
                PG["host"],
                "-U",
                PG["user"],
                "-c",
                str(args.clients),
                "-j",
                "2",
                "-T",
                str(args.pgbench_seconds),
                bench_db,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
        psql(f'DROP DATABASE "{bench_db}" WITH (FORCE)')

        print(
            f"machine: {os.cpu_count()} cores; server: {args.workers} gunicorn workers x "
            f"{args.threads} threads; {args.clients} clients"
        )
        print(
            f"cases started and released: {per_client * args.clients} "
            f"({len(latencies)} HTTP round trips) in {elapsed:.1f} s; errors: {len(errors)}"
        )
        print(f"round trips/s: {rps:.1f}   p50: {p50:.1f} ms   p99: {p99:.1f} ms")
        print(
            f"pgbench TPC-B-like, {args.clients} clients, {args.pgbench_seconds} s: {tps:.1f} TPS"
        )
        print(f"ratio four-eyes round trips / pgbench transactions: {rps / tps:.3f}")
        if errors:
            print("first errors:", *errors[:5], sep="\n  ")
            print((var / "server.log").read_text()[-3000:])
            raise SystemExit(1)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
