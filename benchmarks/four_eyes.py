#!/usr/bin/env python3
"""Four-eyes round trips through the real server on PostgreSQL, beside pgbench on the same server.

    .venv/bin/python benchmarks/four_eyes.py [--clients 1,8,32] [--seconds 60] [--workers 4]
    .venv/bin/python benchmarks/four_eyes.py --nodes 1,2 --clients 8 --seconds 30

Creates a fresh database, loads the demo bank, starts ``backoffice serve`` and, for each
client count, lets that many concurrent clients start payment cases (maker token) and
release them (checker token) over HTTP for ``--seconds``. Prints round trips per second
and latency percentiles, beside the TPS of ``pgbench`` (TPC-B-like, same client count)
against the same PostgreSQL server in the same run. Every request must succeed.

``--nodes N`` (or a list, run in turn) starts N servers on the one database, each with
``--workers`` workers, behind Debian's HAProxy (round robin, as ``tests/test_two_nodes.py``
sets it up), and sends the same load through the balancer; one node is served directly,
as before, unless ``--via-balancer`` puts HAProxy in front of it too.
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
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the balancer helper is the tests' (tests/support.py)

from tests.support import HAPROXY, NODE_HEADER, free_port, running_balancer  # noqa: E402

BIN = Path(sys.executable).parent
PASSWORD = "musterbank-demo"  # noqa: S105 - the published demo password (backoffice.ops.demo)
MAKERS = ["anna.schmidt", "lukas.becker", "julia.wagner", "felix.hoffmann", "paul.meyer"]
CHECKERS = ["lena.schulz", "maria.keller", "sophie.krueger", "eva.hahn"]
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(
        ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", db, "-q", "-c", sql],
        check=True,
    )


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(
        [str(BIN / "backoffice"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        input=stdin,
    )
    return done.stdout


class Client:
    """One keep-alive connection, like a client's pool of one.

    Every POST carries an Idempotency-Key, so when the server has closed the idle
    connection (the request never got an answer) it is sent again on a new one, as
    urllib3 does: the key makes sure it is carried out at most once.
    """

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.nodes: Counter[str] = Counter()  # behind the balancer: which node answered

    def post(self, path: str, body: dict[str, object]) -> tuple[int, dict[str, object], float]:
        started = time.perf_counter()
        headers = self.headers | {"Idempotency-Key": uuid.uuid4().hex}
        try:
            self.conn.request("POST", path, json.dumps(body), headers)
            response = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request("POST", path, json.dumps(body), headers)
            response = self.conn.getresponse()
        raw = response.read()
        self.nodes[response.getheader(NODE_HEADER) or "direct"] += 1
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"unparsed": raw[:300].decode(errors="replace")}
        return response.status, data, time.perf_counter() - started


class Sampler:
    """Twice a second, what the benchmark database's sessions do (``pg_stat_activity``):
    how many are connected, running a statement, and waiting for the audit chain's
    advisory lock (``wait_event = 'advisory'``, backoffice.audit.services)."""

    SQL = (
        "SELECT count(*), count(*) FILTER (WHERE state = 'active'), "
        "count(*) FILTER (WHERE wait_event = 'advisory') "
        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    )

    def __init__(self, db: str) -> None:
        self.db = db
        self.rows: list[tuple[int, int, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(
            host=PG["host"], port=PG["port"], user=PG["user"], dbname="postgres", autocommit=True
        ) as conn:
            while not self.stop.wait(0.5):
                row = conn.execute(self.SQL, [self.db]).fetchone()
                self.rows.append(row)  # type: ignore[arg-type]

    def __enter__(self) -> Sampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def summary(self) -> dict[str, float]:
        rows = self.rows or [(0, 0, 0)]
        return {
            "connections": max(r[0] for r in rows),
            "active": statistics.mean(r[1] for r in rows),
            "chain_wait": statistics.mean(r[2] for r in rows),
        }


def measure(port: int, tokens: dict[str, str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads start and release cases for ``seconds``; every request must succeed."""
    latencies: list[float] = []
    errors: list[str] = []
    nodes: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work(index: int) -> None:
        try:
            maker = Client(port, tokens[MAKERS[index % len(MAKERS)]])
            checker = Client(port, tokens[CHECKERS[index % len(CHECKERS)]])
            mine: list[float] = []
            n = 0
            while time.perf_counter() < deadline:
                n += 1
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
                    raise RuntimeError(f"start {status} {body}")
                status, body, took = checker.post(
                    f"/api/v1/cases/{body['id']}/actions", {"action": "release"}
                )
                mine.append(took)
                if status != 200 or body.get("status") != "released":
                    raise RuntimeError(f"release {status} {body}")
            with lock:
                latencies.extend(mine)
                nodes.update(maker.nodes + checker.nodes)
        except Exception as exc:  # noqa: BLE001 - a failed client is an error to report
            with lock:
                errors.append(f"client {index}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "seconds": elapsed,
        "round_trips": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000
        if latencies
        else float("nan"),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "by_node": dict(sorted(nodes.items())),
    }


def pgbench_tps(db: str, clients: int, seconds: int) -> float:
    pgbench = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    out = subprocess.run(
        [
            pgbench,
            "-h",
            PG["host"],
            "-U",
            PG["user"],
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(seconds),
            db,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))  # type: ignore[union-attr]


def wait_ready(port: int) -> None:
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
            return
        except OSError:
            time.sleep(0.1)


@contextmanager
def serving(
    nodes: int, env: dict[str, str], var: Path, args: argparse.Namespace
) -> Iterator[tuple[int, list[Path]]]:
    """``nodes`` servers on the one database; the port to send the load to, and their logs.

    One node is served directly (as this benchmark always did) unless ``--via-balancer``;
    more stand behind HAProxy, which keeps connections to them alive (``http-reuse safe``)
    and still balances every request.
    """
    ports: dict[str, int] = {}
    while len(set(ports.values())) < nodes:
        ports = {f"node-{i + 1}": free_port() for i in range(nodes)}
    logs = [var / f"server-{nodes}-{name}.log" for name in ports]
    with ExitStack() as stack:
        for port, log in zip(ports.values(), logs, strict=True):
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
                stderr=stack.enter_context(log.open("w")),
            )
            stack.callback(server.wait, timeout=20)
            stack.callback(server.terminate)
        for port in ports.values():
            wait_ready(port)
        if nodes == 1 and not args.via_balancer:
            yield next(iter(ports.values())), logs
            return
        balancer_dir = var / f"haproxy-{nodes}"
        balancer_dir.mkdir()
        url = stack.enter_context(running_balancer(balancer_dir, ports, keep_alive=True))
        yield int(url.rsplit(":", 1)[1]), logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,8,32", help="comma-separated client counts")
    parser.add_argument("--seconds", type=float, default=60.0, help="per client count")
    parser.add_argument("--workers", type=int, default=4, help="per node")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    parser.add_argument(
        "--nodes", default="1", help="comma-separated node counts; more than one: behind HAProxy"
    )
    parser.add_argument(
        "--via-balancer", action="store_true", help="HAProxy in front of a single node too"
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    node_counts = [int(n) for n in args.nodes.split(",")]

    db = f"bo_bench_{uuid.uuid4().hex[:8]}"
    bench_db = f"{db}_pgbench"
    psql(f'CREATE DATABASE "{db}"')
    psql(f'CREATE DATABASE "{bench_db}"')
    var = Path(tempfile.mkdtemp(prefix="bo-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")} | {
        "BACKOFFICE_DATABASE_URL": f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{db}",
        "BACKOFFICE_VAR_DIR": str(var),
        "BACKOFFICE_PLAIN_HTTP": "1",
    }
    logs: list[Path] = []
    try:
        # #13: each demo person makes their own token with the demo password
        run("demo", "--no-serve", env=env)
        tokens = {
            u: run(
                "token", "create", u, "--name", "bench", "--password-stdin", env=env, stdin=PASSWORD
            ).strip()
            for u in MAKERS + CHECKERS
        }
        subprocess.run(
            ["pgbench", "-h", PG["host"], "-U", PG["user"], "-i", "-s", "10", "-q", bench_db],
            check=True,
            capture_output=True,
        )
        rows = []
        for nodes in node_counts:
            with serving(nodes, env, var, args) as (port, logs):
                for clients in levels:
                    with Sampler(db) as sampler:
                        result = measure(port, tokens, clients, args.seconds)
                    result |= sampler.summary()
                    result["nodes"] = nodes
                    result["pgbench_tps"] = pgbench_tps(bench_db, clients, args.pgbench_seconds)
                    rows.append(result)
                    r = result
                    print(
                        f"{nodes} node(s), {clients:>3} clients: {r['rps']:.1f} round trips/s, "
                        f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, errors {r['errors']}, "
                        f"pgbench {r['pgbench_tps']:.0f} TPS; answered by "
                        + ", ".join(f"{n} {c}" for n, c in r["by_node"].items())
                        + f"; PostgreSQL sessions: {r['connections']} at most, "
                        f"{r['active']:.1f} active, {r['chain_wait']:.1f} waiting for the "
                        "audit chain's lock (means)",
                        flush=True,
                    )
                    if r["errors"]:
                        break
            if any(r["errors"] for r in rows):
                break
        print()
        version = subprocess.run([HAPROXY, "-v"], capture_output=True, text=True).stdout.split()
        balanced = (
            f"; HAProxy {version[2] if len(version) > 2 else ''} (round robin) in front of "
            + ("every node count" if args.via_balancer else "more than one node")
        )
        print(
            f"machine: {os.cpu_count()} cores; each node: {args.workers} gunicorn workers x "
            f"{args.threads} threads{balanced}; PostgreSQL on the same machine; "
            f"{args.seconds:.0f} s per level"
        )
        print(
            "| nodes | clients | round trips/s | p50 ms | p99 ms | errors | pgbench TPS "
            "| round trips per pgbench tx | waiting for the chain lock |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['nodes']} | {r['clients']} | {r['rps']:.1f} | {r['p50']:.1f} "
                f"| {r['p99']:.1f} | {r['errors']} | {r['pgbench_tps']:.0f} "
                f"| {r['rps'] / r['pgbench_tps']:.3f} | {r['chain_wait']:.1f} |"
            )
        failed = [r for r in rows if r["errors"]]
        if failed:
            print("errors:", *(r["first_error"] for r in failed), sep="\n  ")
            for log in logs:
                print(f"== {log.name}", log.read_text()[-3000:], sep="\n")
            raise SystemExit(1)
    finally:
        psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        psql(f'DROP DATABASE IF EXISTS "{bench_db}" WITH (FORCE)')
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
