#!/usr/bin/env python3
"""Benchmark ``backoffice sod analyze`` against DuckDB, and the what-if (issue #6).

    python benchmarks/sod_analyze.py --preset large     # the figures in docs/performance.md
    python benchmarks/sod_analyze.py --preset small     # a quick check while developing
    python benchmarks/sod_analyze.py --live --preset large   # #15: the same, from PostgreSQL

Generates the preset once into benchmarks/data/PRESET (git-ignored), then runs, each as
its own process and timed by wall clock with its peak memory (``wait4``):

  (a) ``backoffice sod analyze``, CSV in, violations.csv out;
  (b) the same analysis as SQL in DuckDB (recursive CTE for the hierarchy), CSV to CSV;
  (c) DuckDB reading every CSV and counting its rows: the I/O floor.

It checks that (a) and (b) wrote identical bytes, prints the times, a/b, a/c and peak
memory, then the what-if latency over random persons with the rule set compiled in
memory. Needs the ``bench`` extra (duckdb). Machine-dependent: compare ratios, not seconds.
``--live`` times ``sod analyze --live`` against PostgreSQL's ``COPY … TO`` instead
(``benchmarks/sod_live.py`` says how).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATOR = HERE / "sodbench" / "generate.py"
FILES = (
    "users",
    "roles",
    "assignments",
    "role_permissions",
    "role_hierarchy",
    "functions",
    "risks",
    "mitigations",
)
AS_OF = "2025-06-30"  # the generator spreads mitigation expiry around this date

# (b): the textbook formulation. Every user's functions are materialised, then counted
# per risk; the hierarchy is a recursive CTE. Strings are compared as read, like (a).
SQL = """
COPY (
  WITH RECURSIVE
  closure(ancestor, role_id) AS (
    SELECT role_id, role_id FROM roles
    UNION
    SELECT c.ancestor, h.child_role_id
    FROM closure c JOIN role_hierarchy h ON h.parent_role_id = c.role_id
  ),
  role_functions AS (
    SELECT DISTINCT c.ancestor AS role_id, f.function_id
    FROM closure c
    JOIN role_permissions rp ON rp.role_id = c.role_id
    JOIN functions f ON f.permission = rp.permission
  ),
  user_functions AS (
    SELECT DISTINCT a.user_id, rf.function_id
    FROM assignments a JOIN role_functions rf ON rf.role_id = a.role_id
  ),
  risk_functions AS (SELECT DISTINCT risk_id, function_id FROM risks),
  risk_sizes AS (
    SELECT risk_id, min(level) AS level, count(*) AS size FROM (
      SELECT DISTINCT risk_id, level, function_id FROM risks
    ) GROUP BY risk_id
  ),
  held AS (
    SELECT uf.user_id, rf.risk_id, count(*) AS n
    FROM user_functions uf JOIN risk_functions rf ON rf.function_id = uf.function_id
    GROUP BY uf.user_id, rf.risk_id
  ),
  valid AS (
    SELECT DISTINCT user_id, risk_id FROM mitigations
    WHERE CAST(valid_until AS DATE) >= DATE '{as_of}'
  )
  SELECT h.user_id, h.risk_id, s.level, v.user_id IS NOT NULL AS mitigated
  FROM held h
  JOIN risk_sizes s ON s.risk_id = h.risk_id AND h.n = s.size
  LEFT JOIN valid v ON v.user_id = h.user_id AND v.risk_id = h.risk_id
  JOIN (SELECT DISTINCT user_id FROM users) u ON u.user_id = h.user_id
  ORDER BY h.user_id, h.risk_id
) TO '{out}' (HEADER, DELIMITER ',')
"""


def _read_csv(folder: Path, name: str) -> str:
    return f"read_csv('{folder / name}.csv', header=true, all_varchar=true)"


def run_sql(folder: Path, out: Path) -> None:
    """(b), in a child process."""
    import duckdb

    con = duckdb.connect()
    for name in FILES:
        source = _read_csv(folder, name)
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {source}")  # noqa: S608 - own files
    con.execute(SQL.format(as_of=AS_OF, out=out))


def run_count(folder: Path) -> None:
    """(c), in a child process: read every file, count its rows."""
    import duckdb

    con = duckdb.connect()
    total = 0
    for name in FILES:
        query = f"SELECT count(*) FROM {_read_csv(folder, name)}"  # noqa: S608 - our own files
        row = con.execute(query).fetchone()
        assert row is not None
        total += int(row[0])
    print(f"{total} rows")


def ensure_data(preset: str, folder: Path) -> None:
    """Generate the preset once; a marker file says the folder is complete."""
    marker = folder / ".complete"
    if marker.exists() and marker.read_text() == preset:
        return
    print(f"generating the {preset} preset into {folder} (once) …", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(
        [sys.executable, str(GENERATOR), "--preset", preset, "--out", str(folder)], check=True
    )
    marker.write_text(preset)


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one child process (``wait4`` per child)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports KiB


def whatif_latency(folder: Path, persons: int) -> None:
    from backoffice.core.accessrisk import load_population, load_rules, simulate

    start = time.perf_counter()
    rules = load_rules(folder)
    compiled = time.perf_counter() - start
    population = load_population(folder, rules)
    rng = random.Random(7)
    ptr, roles = population.ptr, population.roles
    asks = []
    for user in rng.sample(range(population.size), min(persons, population.size)):
        held = [rules.role_ids[r] for r in roles[ptr[user] : ptr[user + 1]].tolist()]
        add = rng.sample(rules.role_ids, 2)
        remove = rng.sample(held, 1) if held else []
        asks.append((held, add, remove))
    simulate(rules, *asks[0])  # the first call builds the per-role integers
    times = []
    changes = 0
    for held, add, remove in asks:
        begin = time.perf_counter_ns()
        answer = simulate(rules, held, add, remove)
        times.append((time.perf_counter_ns() - begin) / 1000)
        changes += len(answer.gained) + len(answer.lost)
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    print(
        f"what-if over {len(times):,} random persons (held roles of a real user, add 2, "
        f"remove 1; {changes:,} risks gained or lost, with causes): median "
        f"{statistics.median(times):.0f} µs, p99 {p99:.0f} µs; rule set "
        f"({len(rules.role_ids):,} roles, {len(rules.risk_ids):,} risks) compiled in "
        f"{compiled:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=("small", "medium", "large"), default="small")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of (a) and (c); the median counts"
    )
    parser.add_argument("--persons", type=int, default=10_000, help="what-if persons")
    parser.add_argument("--skip-sql", action="store_true", help="leave (b) out (it is slow)")
    parser.add_argument(
        "--live", action="store_true", help="the preset in PostgreSQL: --live against COPY"
    )
    parser.add_argument("--reload", action="store_true", help="--live: load the database again")
    parser.add_argument("--run-sql", nargs=2, metavar=("DIR", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--run-count", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_sql:
        run_sql(Path(args.run_sql[0]), Path(args.run_sql[1]))
        return
    if args.run_count:
        run_count(Path(args.run_count))
        return

    folder = HERE / "data" / args.preset
    ensure_data(args.preset, folder)
    backoffice = shutil.which("backoffice", path=str(Path(sys.executable).parent))
    assert backoffice, "install the project first (python3 dev.py test makes .venv)"
    if args.live:
        live(folder, args, backoffice)
        return
    with tempfile.TemporaryDirectory(dir=HERE / "data") as scratch:
        out_a, out_b = Path(scratch) / "a.csv", Path(scratch) / "b.csv"
        runs = {
            "a": [backoffice, "sod", "analyze", str(folder), "--as-of", AS_OF, "--out", str(out_a)],
            "b": [sys.executable, __file__, "--run-sql", str(folder), str(out_b)],
            "c": [sys.executable, __file__, "--run-count", str(folder)],
        }
        if args.skip_sql:
            del runs["b"]
        samples: dict[str, list[tuple[float, float]]] = {key: [] for key in runs}
        # (a) and (c) alternate, so background load on a shared machine hits both alike;
        # (b) takes long and much memory: once is enough to show the ratio
        for _ in range(args.repeat):
            for key in ("a", "c"):
                samples[key].append(timed(runs[key]))
        if "b" in runs:
            samples["b"].append(timed(runs["b"]))
        results = {
            key: (statistics.median(s for s, _ in runs_), max(m for _, m in runs_))
            for key, runs_ in samples.items()
        }
        same = "b" not in results or filecmp.cmp(out_a, out_b, shallow=False)
        lines = sum(1 for _ in out_a.open()) - 1
        if not same:
            for out in (out_a, out_b):
                shutil.copy(out, HERE / "data" / f"{args.preset}-{out.name}")
            print(f"(a) and (b) differ: see benchmarks/data/{args.preset}-a.csv and -b.csv")

    labels = {
        "a": "(a) backoffice sod analyze",
        "b": "(b) DuckDB, the same analysis in SQL",
        "c": "(c) DuckDB reads the CSVs, counts rows",
    }
    print(f"\npreset {args.preset}, {lines:,} violations, as of {AS_OF}; {_machine()}")
    print(f"median of {args.repeat} run(s) of (a) and (c), one of (b)\n")
    print("| run | wall time | peak memory |")
    print("| --- | ---: | ---: |")
    for key, (seconds, mib) in results.items():
        print(f"| {labels[key]} | {seconds:.2f} s | {mib:,.0f} MiB |")
    a, c = results["a"][0], results["c"][0]
    if "b" in results:
        b = results["b"][0]
        print(
            f"\na/b = {a / b:.3f}: (b) takes {b / a:.1f}x as long as (a); outputs identical: {same}"
        )
    print(f"a/c = {a / c:.2f}: (a) takes {a / c:.1f}x as long as the I/O floor\n")
    whatif_latency(folder, args.persons)
    if not same:
        raise SystemExit(1)


def live(folder: Path, args: argparse.Namespace, backoffice: str) -> None:
    """#15 part 6: (a) ``sod analyze --live`` over the preset in PostgreSQL, (c) ``COPY``
    of the same tables, (r) the CSV analysis of the same data; (a) must equal (r)."""
    import sod_live

    shaped = sod_live.live_folder(folder)
    url = sod_live.database_url(args.preset)
    with tempfile.TemporaryDirectory(dir=HERE / "data") as scratch:
        env = os.environ | {"BACKOFFICE_DATABASE_URL": url, "BACKOFFICE_VAR_DIR": scratch}
        sod_live.ensure_database(shaped, args.preset, args.reload, env)
        out_a, out_r = Path(scratch) / "a.csv", Path(scratch) / "r.csv"
        floor = Path(scratch) / "floor"
        floor.mkdir()
        runs = {
            "a": [backoffice, "sod", "analyze", "--live", "--as-of", AS_OF, "--out", str(out_a)],
            "c": [sys.executable, sod_live.__file__, "--floor", url, str(floor)],
            "r": [backoffice, "sod", "analyze", str(shaped), "--as-of", AS_OF, "--out", str(out_r)],
        }
        samples: dict[str, list[tuple[float, float]]] = {key: [] for key in runs}
        for _ in range(args.repeat):  # alternating, so background load hits all alike
            for key, command in runs.items():
                samples[key].append(timed(command, env))
        results = {
            key: (statistics.median(s for s, _ in runs_), max(m for _, m in runs_))
            for key, runs_ in samples.items()
        }
        same = filecmp.cmp(out_a, out_r, shallow=False)
        lines = sum(1 for _ in out_a.open()) - 1
        copied = sum(f.stat().st_size for f in floor.iterdir()) / 2**20
        if not same:
            for out in (out_a, out_r):
                shutil.copy(out, HERE / "data" / f"{args.preset}-live-{out.name}")
            print(f"(a) and (r) differ: see benchmarks/data/{args.preset}-live-a.csv and -r.csv")
    labels = {
        "a": "(a) backoffice sod analyze --live (PostgreSQL)",
        "c": f"(c) COPY … TO of the same tables ({copied:,.0f} MiB): the floor",
        "r": "(r) backoffice sod analyze of the CSV folder",
    }
    print(
        f"\npreset {args.preset} in PostgreSQL, {lines:,} violations, as of {AS_OF}; {_machine()}"
    )
    print(f"median of {args.repeat} run(s) of each\n")
    print("| run | wall time | peak memory |")
    print("| --- | ---: | ---: |")
    for key, (seconds, mib) in results.items():
        print(f"| {labels[key]} | {seconds:.2f} s | {mib:,.0f} MiB |")
    a, c = results["a"][0], results["c"][0]
    print(f"\na/c = {a / c:.2f}: --live takes {a / c:.1f}x as long as the floor (target: 3x)")
    print(f"outputs of (a) and (r) identical: {same}")
    if not same:
        raise SystemExit(1)


def _machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}, "
        f"{date.today().isoformat()}"  # noqa: DTZ011 - the day of the run
    )


if __name__ == "__main__":
    main()
