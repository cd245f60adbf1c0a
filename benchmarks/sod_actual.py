#!/usr/bin/env python3
"""Benchmark ``backoffice sod actual`` against the same question in DuckDB (issue #15).

    python benchmarks/sod_actual.py                       # large preset, 10,000,000 events
    python benchmarks/sod_actual.py --preset medium --events 1000000   # while developing

Generates the preset once into benchmarks/data/PRESET (git-ignored) and an event log for
its users beside it (``events-N.csv``), then runs, each as its own process, timed by wall
clock with its peak memory (``wait4``):

  (a) ``backoffice sod actual``: actual conflicts within 30 days and on one object, with
      each person's possible conflict and mitigation beside them, to CSV;
  (b) the same question as SQL in DuckDB, CSV to CSV;
  (c) DuckDB reading the event log and counting its rows: the I/O floor.

It checks that (a) and (b) wrote identical bytes and prints the times, a/b, a/c, the data
size and peak memory. Needs the ``bench`` extra (duckdb). Compare ratios, not seconds.

The events: every user has three usual functions and performs them on random objects at
random times of 2025; 1 % of the users also perform all functions of one risk, in a short
or a long stretch of time, half of them on one object; 5 % of the events are actions that
perform no function (displays).
"""

from __future__ import annotations

import argparse
import compileall
import filecmp
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from sod_analyze import ensure_data  # noqa: E402 - the script's own folder

AS_OF = "2025-06-30"
WINDOW_DAYS = 30
YEAR_START = 1735689600  # 2025-01-01T00:00:00Z
YEAR_SECONDS = 365 * 86400


def timed(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, all threads) and peak resident MiB of one
    child process. On a shared machine the wall time depends on the others' load; the CPU
    time says what the work itself costs."""
    start = time.perf_counter()
    # from this checkout: ``-m`` puts the working directory first, before PYTHONPATH
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def generate_events(folder: Path, n_events: int, out: Path, seed: int = 15) -> None:
    """Write ``actor,action,object,time`` for the users of ``folder``, in time order."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    users = pcsv.read_csv(folder / "users.csv")["user_id"].combine_chunks()
    functions = pcsv.read_csv(folder / "functions.csv").combine_chunks()
    risks = pcsv.read_csv(folder / "risks.csv").combine_chunks()
    fn_ids, fn_of = np.unique(
        functions["function_id"].to_numpy(zero_copy_only=False), return_inverse=True
    )
    permissions = functions["permission"]
    fn_ptr = np.concatenate(([0], np.cumsum(np.bincount(fn_of, minlength=len(fn_ids)))))
    perm_by_fn = np.argsort(fn_of, kind="stable")
    risk_ids, risk_of = np.unique(
        risks["risk_id"].to_numpy(zero_copy_only=False), return_inverse=True
    )
    risk_fn = np.searchsorted(fn_ids, risks["function_id"].to_numpy(zero_copy_only=False))
    in_risks = np.unique(risk_fn)
    n_users = len(users)

    def permission_of(fn: np.ndarray) -> np.ndarray:
        pick = fn_ptr[fn] + (rng.random(len(fn)) * (fn_ptr[fn + 1] - fn_ptr[fn])).astype(np.int64)
        return perm_by_fn[pick]

    # injected conflicts: 1 % of the users perform all functions of one risk
    chosen = rng.choice(n_users, size=max(1, n_users // 100), replace=False)
    risk = rng.integers(0, len(risk_ids), size=len(chosen))
    order = np.argsort(risk_of, kind="stable")
    r_ptr = np.concatenate(([0], np.cumsum(np.bincount(risk_of, minlength=len(risk_ids)))))
    size = r_ptr[risk + 1] - r_ptr[risk]
    inj_user = np.repeat(chosen, size)
    inj_fn = risk_fn[order][np.concatenate([np.arange(r_ptr[k], r_ptr[k + 1]) for k in risk])]
    start = YEAR_START + rng.integers(0, YEAR_SECONDS - 200 * 86400, size=len(chosen))
    spread = np.where(rng.random(len(chosen)) < 0.7, 20 * 86400, 120 * 86400)
    inj_time = np.repeat(start, size) + (
        rng.random(len(inj_user)) * np.repeat(spread, size)
    ).astype(np.int64)
    same = np.repeat(rng.random(len(chosen)) < 0.5, size)
    inj_obj = np.where(
        same,
        np.repeat(rng.integers(0, 10**8, size=len(chosen)), size),
        rng.integers(0, 10**8, size=len(inj_user)),
    )

    n_base = n_events - len(inj_user)
    usual = rng.choice(in_risks, size=(n_users, 3))
    base_user = rng.integers(0, n_users, size=n_base)
    base_fn = usual[base_user, rng.integers(0, 3, size=n_base)]
    base_time = YEAR_START + rng.integers(0, YEAR_SECONDS, size=n_base)
    base_obj = rng.integers(0, 2_000_000, size=n_base)  # objects recur: the same invoice twice

    user = np.concatenate([base_user, inj_user])
    action = permissions.take(pa.array(permission_of(np.concatenate([base_fn, inj_fn]))))
    display = rng.random(len(user)) < 0.05
    action = pc.if_else(pa.array(display), pa.scalar("DISPLAY"), action)
    seconds = np.concatenate([base_time, inj_time])
    obj = np.concatenate([base_obj, inj_obj])
    order = np.argsort(seconds, kind="stable")
    table = pa.table(
        {
            "actor": users.take(pa.array(user[order])),
            "action": action.take(pa.array(order)),
            "object": pc.binary_join_element_wise(
                "D", pc.cast(pa.array(obj[order]), pa.string()), ""
            ),
            "time": pc.binary_join_element_wise(
                pc.strftime(pa.array(seconds[order], pa.timestamp("s")), "%Y-%m-%dT%H:%M:%S"),
                "Z",
                "",
            ),
        }
    )
    partial = out.with_suffix(".partial")
    pcsv.write_csv(table, partial, pcsv.WriteOptions(quoting_style="none"))
    partial.rename(out)


SQL = """
SET TimeZone = 'UTC';
COPY (
  WITH RECURSIVE
  fn AS (SELECT DISTINCT permission AS action, function_id FROM functions),
  rf AS (SELECT DISTINCT risk_id, function_id FROM risks),
  rsize AS (SELECT risk_id, count(*) AS n FROM rf GROUP BY risk_id),
  rlevel AS (SELECT risk_id, min(level) AS level FROM risks GROUP BY risk_id),
  ev AS (
    SELECT e.actor AS user_id, fn.function_id, CAST(CAST(e.time AS TIMESTAMPTZ) AS TIMESTAMP) AS t,
           e.object
    FROM events e JOIN fn ON fn.action = e.action
  ),
  x AS (SELECT ev.user_id, rf.risk_id, ev.function_id, ev.t, ev.object
        FROM ev JOIN rf ON rf.function_id = ev.function_id),
  complete AS (
    SELECT x.user_id, x.risk_id FROM x JOIN rsize ON rsize.risk_id = x.risk_id
    GROUP BY x.user_id, x.risk_id, rsize.n HAVING count(DISTINCT x.function_id) = rsize.n
  ),
  xc AS (SELECT x.* FROM x SEMI JOIN complete c ON c.user_id = x.user_id AND c.risk_id = x.risk_id),
  -- window: for each anchor, the first event of every function at or after it
  anchors AS (SELECT DISTINCT user_id, risk_id, t FROM xc),
  nexts AS (
    SELECT a.user_id, a.risk_id, a.t AS anchor, x.function_id, min(x.t) AS t_f
    FROM anchors a JOIN xc x ON x.user_id = a.user_id AND x.risk_id = a.risk_id AND x.t >= a.t
    GROUP BY a.user_id, a.risk_id, a.t, x.function_id
  ),
  ok AS (
    SELECT n.user_id, n.risk_id, n.anchor FROM nexts n JOIN rsize s ON s.risk_id = n.risk_id
    GROUP BY n.user_id, n.risk_id, n.anchor, s.n
    HAVING count(*) = s.n AND max(n.t_f) - n.anchor <= INTERVAL '{window} seconds'
  ),
  first_ok AS (SELECT user_id, risk_id, min(anchor) AS start FROM ok GROUP BY user_id, risk_id),
  wtime AS (
    SELECT f.user_id, f.risk_id, x.function_id, min(x.t) AS t
    FROM first_ok f JOIN xc x ON x.user_id = f.user_id AND x.risk_id = f.risk_id AND x.t >= f.start
    GROUP BY f.user_id, f.risk_id, x.function_id
  ),
  wev AS (
    SELECT w.user_id, w.risk_id, w.function_id, w.t, min(x.object) AS eobject
    FROM wtime w JOIN xc x ON x.user_id = w.user_id AND x.risk_id = w.risk_id
      AND x.function_id = w.function_id AND x.t = w.t
    GROUP BY w.user_id, w.risk_id, w.function_id, w.t
  ),
  -- the same object (OBJ-SOD): every function on one object, at any time
  oev AS (
    SELECT user_id, risk_id, object, function_id, min(t) AS t FROM xc WHERE object <> ''
    GROUP BY user_id, risk_id, object, function_id
  ),
  ofull AS (
    SELECT o.user_id, o.risk_id, o.object FROM oev o JOIN rsize s ON s.risk_id = o.risk_id
    GROUP BY o.user_id, o.risk_id, o.object, s.n HAVING count(*) = s.n
  ),
  found AS (
    SELECT user_id, risk_id, 'window' AS kind, '' AS object, function_id, t, eobject FROM wev
    UNION ALL
    SELECT o.user_id, o.risk_id, 'object', o.object, o.function_id, o.t, o.object
    FROM oev o SEMI JOIN ofull f
      ON f.user_id = o.user_id AND f.risk_id = o.risk_id AND f.object = o.object
  ),
  rows_ AS (
    SELECT user_id, risk_id, kind, object, min(t) AS start, max(t) AS finish,
      string_agg(function_id || ' ' || strftime(t, '%Y-%m-%dT%H:%M:%SZ')
                 || CASE WHEN eobject <> '' THEN ' ' || eobject ELSE '' END, '; '
                 ORDER BY function_id) AS evidence
    FROM found GROUP BY user_id, risk_id, kind, object
  ),
  -- possible: the analysis of sod analyze, for the people with actual conflicts only
  people AS (SELECT DISTINCT user_id FROM rows_),
  closure(ancestor, role_id) AS (
    SELECT role_id, role_id FROM roles
    UNION
    SELECT c.ancestor, h.child_role_id
    FROM closure c JOIN role_hierarchy h ON h.parent_role_id = c.role_id
  ),
  role_functions AS (
    SELECT DISTINCT c.ancestor AS role_id, f.function_id
    FROM closure c JOIN role_permissions rp ON rp.role_id = c.role_id
    JOIN functions f ON f.permission = rp.permission
  ),
  user_functions AS (
    SELECT DISTINCT a.user_id, r.function_id
    FROM assignments a SEMI JOIN people p ON p.user_id = a.user_id
    JOIN role_functions r ON r.role_id = a.role_id
  ),
  held AS (
    SELECT uf.user_id, rf.risk_id FROM user_functions uf
    JOIN rf ON rf.function_id = uf.function_id JOIN rsize s ON s.risk_id = rf.risk_id
    GROUP BY uf.user_id, rf.risk_id, s.n HAVING count(*) = s.n
  ),
  valid AS (
    SELECT DISTINCT user_id, risk_id FROM mitigations
    WHERE CAST(valid_until AS DATE) >= DATE '{as_of}'
  )
  SELECT r.user_id, r.risk_id, l.level, r.kind, NULLIF(r.object, '') AS object,
    strftime(r.start, '%Y-%m-%dT%H:%M:%SZ') AS start,
    strftime(r.finish, '%Y-%m-%dT%H:%M:%SZ') AS "end",
    h.user_id IS NOT NULL AS possible,
    h.user_id IS NOT NULL AND v.user_id IS NOT NULL AS mitigated,
    r.evidence
  FROM rows_ r JOIN rlevel l ON l.risk_id = r.risk_id
  LEFT JOIN held h ON h.user_id = r.user_id AND h.risk_id = r.risk_id
  LEFT JOIN valid v ON v.user_id = r.user_id AND v.risk_id = r.risk_id
  ORDER BY r.user_id, r.risk_id, r.kind, r.object
) TO '{out}' (HEADER, DELIMITER ',');
"""

FOLDER_FILES = (
    "users",
    "roles",
    "assignments",
    "role_permissions",
    "role_hierarchy",
    "functions",
    "risks",
    "mitigations",
)


def _source(path: Path) -> str:
    return f"read_csv('{path}', header=true, all_varchar=true)"


def run_sql(folder: Path, events: Path, out: Path) -> None:
    """(b), in a child process."""
    import duckdb

    con = duckdb.connect()
    for name in FOLDER_FILES:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {_source(folder / f'{name}.csv')}")  # noqa: S608
    con.execute(f"CREATE VIEW events AS SELECT * FROM {_source(events)}")  # noqa: S608
    con.execute(SQL.format(window=WINDOW_DAYS * 86400, as_of=AS_OF, out=out))


def run_count(events: Path) -> None:
    """(c), in a child process: read the event log, count its rows."""
    import duckdb

    row = duckdb.connect().execute(f"SELECT count(*) FROM {_source(events)}").fetchone()  # noqa: S608
    assert row is not None
    print(f"{row[0]} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=("small", "medium", "large"), default="large")
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of (a) and (c); the median")
    parser.add_argument(
        "--repeat-sql",
        type=int,
        default=3,
        help="runs of (b), between those of (a) and (c); the median (DuckDB's time varies "
        "by a third from run to run, and one run made the ratio a matter of luck)",
    )
    parser.add_argument("--run-sql", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--run-count", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_sql:
        run_sql(*(Path(p) for p in args.run_sql))
        return
    if args.run_count:
        run_count(Path(args.run_count))
        return

    folder = HERE / "data" / args.preset
    ensure_data(args.preset, folder)
    events = HERE / "data" / f"{args.preset}-events-{args.events}.csv"
    if not events.exists():
        print(f"generating {args.events:,} events into {events} (once) …", flush=True)
        generate_events(folder, args.events, events)
    # compiled as an installed package is (pip compiles on install): where the environment
    # sets PYTHONDONTWRITEBYTECODE, as some containers do, each run of (a) would otherwise
    # compile our modules again (60 ms), a cost of the interpreter, not of the command
    compileall.compile_dir(ROOT / "backoffice", quiet=1)
    # this checkout's code, whichever checkout the environment was installed from
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    backoffice = [sys.executable, "-m", "backoffice.cli"]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(dir=HERE / "data") as scratch:
        out_a, out_b = Path(scratch) / "a.csv", Path(scratch) / "b.csv"
        runs = {
            "a": [
                *backoffice, "sod", "actual", str(folder), "--events", str(events),
                "--window", f"{WINDOW_DAYS}d", "--as-of", AS_OF, "--out", str(out_a),
            ],
            "b": [sys.executable, __file__, "--run-sql", str(folder), str(events), str(out_b)],
            "c": [sys.executable, __file__, "--run-count", str(events)],
        }  # fmt: skip
        samples: dict[str, list[tuple[float, float, float]]] = {key: [] for key in runs}
        for i in range(max(args.repeat, args.repeat_sql)):
            for key, times in (("a", args.repeat), ("b", args.repeat_sql), ("c", args.repeat)):
                if i < times:
                    samples[key].append(timed(runs[key]))
        results = {
            key: (
                statistics.median(s for s, _, _ in runs_),
                statistics.median(c for _, c, _ in runs_),
                max(m for _, _, m in runs_),
            )
            for key, runs_ in samples.items()
        }
        same = filecmp.cmp(out_a, out_b, shallow=False)
        lines = sum(1 for _ in out_a.open()) - 1
        if not same:
            for out in (out_a, out_b):
                shutil.copy(out, HERE / "data" / f"actual-{args.preset}-{out.name}")
            print(f"(a) and (b) differ: see benchmarks/data/actual-{args.preset}-a.csv and -b.csv")

    labels = {
        "a": "(a) backoffice sod actual",
        "b": "(b) DuckDB, the same question in SQL",
        "c": "(c) DuckDB reads the event log, counts rows",
    }
    size = events.stat().st_size / 2**20
    print(
        f"\npreset {args.preset}, {args.events:,} events ({size:,.0f} MiB CSV), window "
        f"{WINDOW_DAYS} days, as of {AS_OF}: {lines:,} actual conflicts; {_machine()}"
    )
    print(f"median of {args.repeat} run(s) of (a) and (c), of {args.repeat_sql} of (b)\n")
    print(f"load average before the runs: {load:.1f} on {os.cpu_count()} cores\n")
    print("| run | wall time | CPU time | peak memory |")
    print("| --- | ---: | ---: | ---: |")
    for key, (seconds, cpu, mib) in results.items():
        print(f"| {labels[key]} | {seconds:.2f} s | {cpu:.2f} s | {mib:,.0f} MiB |")
    a, b, c = results["a"][0], results["b"][0], results["c"][0]
    cpu_a, cpu_b = results["a"][1], results["b"][1]
    print(f"\na/b = {a / b:.3f}: (b) takes {b / a:.1f}x as long as (a); outputs identical: {same}")
    print(f"CPU: (b) uses {cpu_b / cpu_a:.1f}x the CPU time of (a)")
    print(f"a/c = {a / c:.2f}: (a) takes {a / c:.1f}x as long as reading the log")
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
