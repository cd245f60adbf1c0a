"""The ``--live`` half of ``benchmarks/sod_analyze.py`` (#15 part 6): a preset in PostgreSQL.

    python benchmarks/sod_analyze.py --live --preset large      # 1M people, 7.5M assignments

Loads the preset once into its own database (``bo_sod_live_<preset>`` on the server of
``BACKOFFICE_BENCH_POSTGRES_URL``, default the local ``postgresql://postgres@127.0.0.1:5432``)
the way a bank would move in from another IAM system: ``backoffice init`` with a policy whose
``access`` section is the preset's functions and risks, then people, roles, the hierarchy,
assignments and mitigations by ``COPY``. The database is kept for later runs (``--reload``
builds it again).

Then, each as its own process, timed by wall clock with its peak memory:

  (a) ``backoffice sod analyze --live`` against that database;
  (c) ``COPY … TO`` of the same tables, to files in the same folder: the floor — no export
      can read the data out of PostgreSQL faster;
  (r) ``backoffice sod analyze`` of the preset's CSV folder: the reference output.

(a) and (r) must write identical bytes. Policy ids are lower case, so the reference reads
the preset with its function and risk ids lowered (``PRESET-live/``, links to the rest).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER = os.environ.get("BACKOFFICE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
#: bump when the loader changes: a kept database of another version is built again
LOADER_VERSION = "1"
#: what a carried-over grant and mitigation start with: before any analysis date
CARRIED_OVER = "2020-01-01"
LOWERED = ("functions", "risks", "mitigations")


def live_folder(folder: Path) -> Path:
    """The preset with function and risk ids in lower case (policy ids are), and the policy."""
    out = folder.parent / f"{folder.name}-live"
    marker = out / ".complete"
    if marker.exists() and marker.read_text() == LOADER_VERSION:
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    for source in folder.glob("*.csv"):
        name = source.stem
        if name in LOWERED:
            with source.open(newline="") as inp, (out / source.name).open("w", newline="") as dst:
                reader, writer = csv.reader(inp), csv.writer(dst, lineterminator="\n")
                writer.writerow(next(reader))
                for row in reader:
                    writer.writerow(_lowered(name, row))
        else:
            (out / source.name).symlink_to(source)
    _write_policy(out)
    marker.write_text(LOADER_VERSION)
    return out


def _lowered(name: str, row: list[str]) -> list[str]:
    if name == "functions":
        return [row[0].lower(), row[1]]
    if name == "risks":
        return [row[0].lower(), row[1], row[2].lower()]
    return [row[0], row[1].lower(), row[2], row[3]]  # mitigations: user, risk, control, until


def _write_policy(folder: Path) -> None:
    """A policy with the preset's rule set, two bootstrap administrators and the process
    under which mitigations are approved (the carried-over ones hang on one such case)."""
    functions: dict[str, list[str]] = defaultdict(list)
    with (folder / "functions.csv").open(newline="") as handle:
        for function, permission in list(csv.reader(handle))[1:]:
            functions[function].append(permission)
    risks: dict[str, list[str]] = defaultdict(list)
    levels: dict[str, str] = {}
    with (folder / "risks.csv").open(newline="") as handle:
        for risk, level, function in list(csv.reader(handle))[1:]:
            risks[risk].append(function)
            levels[risk] = level

    def flow(items: list[str]) -> str:
        return "[" + ", ".join(f'"{i}"' for i in items) + "]"

    lines = [
        "# Written by benchmarks/sod_live.py: the sodbench preset's rule set as a policy.",
        "version: 1",
        "institution: {name: Benchmark Bank, currency: EUR}",
        "units:",
        "  - {id: board, name: Management Board, line: management}",
        "  - {id: it, name: IT, line: support, parent: board}",
        "people:",
        "  - {id: risk.owner, name: Risk Owner}",
        "  - {id: admin.one, name: Admin One, email: admin.one@example.org}",
        "  - {id: admin.two, name: Admin Two, email: admin.two@example.org}",
        "memberships:",
        f"  - {{person: risk.owner, unit: board, role: head, valid_from: {CARRIED_OVER}}}",
        f"  - {{person: admin.one, unit: it, role: head, valid_from: {CARRIED_OVER}}}",
        f"  - {{person: admin.two, unit: it, valid_from: {CARRIED_OVER}}}",
        "responsibilities:",
        f"  - {{person: risk.owner, units: [it], valid_from: {CARRIED_OVER}}}",
        "roles:",
        "  - {id: compliance, name: Compliance, permissions: [mitigation.propose, "
        "mitigation.approve]}",
        "access:",
        "  functions:",
        *(f"    - {{id: {f}, name: {f}, permissions: {flow(p)}}}" for f, p in functions.items()),
        "  risks:",
        *(
            f"    - {{id: {r}, name: {r}, level: {levels[r]}, owner: risk.owner, "
            f"functions: {flow(f)}}}"
            for r, f in risks.items()
        ),
        "processes:",
        "  - id: mitigation",
        "    name: Mitigation of an access risk",
        "    starter: {permissions: [mitigation.propose]}",
        "    effect: access.mitigate",
        "    payload:",
        "      - {name: person, type: person, label: Person}",
        "      - {name: risk, type: string, label: Access risk}",
        "      - {name: control, type: string, label: Control id}",
        "      - {name: description, type: text, label: What the control does}",
        "      - {name: owner, type: person, label: Control owner}",
        "      - {name: monitor, type: person, label: Monitored by}",
        "      - {name: valid_until, type: date, label: Valid until (last day)}",
        "    steps:",
        "      - {id: approve, name: Approval, action: release, "
        "who: {permissions: [mitigation.approve]}}",
        "bootstrap:",
        "  administrators: [admin.one, admin.two]",
    ]
    (folder / "policy.yaml").write_text("\n".join(lines) + "\n")


def database_url(preset: str) -> str:
    return f"{SERVER.rstrip('/')}/bo_sod_live_{preset}"


def ensure_database(folder: Path, preset: str, reload: bool, env: dict[str, str]) -> None:
    """Create and fill the preset's database once; its comment says which loader filled it."""
    import psycopg

    name, stamp = f"bo_sod_live_{preset}", f"sodbench {preset} loader {LOADER_VERSION}"
    with psycopg.connect(f"{SERVER.rstrip('/')}/postgres", autocommit=True) as admin:
        found = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if found and found[0] == stamp and not reload:
            print(f"database {name} is loaded (kept from an earlier run)", flush=True)
            return
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    print(f"loading the {preset} preset into database {name} (once) …", flush=True)
    backoffice = str(Path(sys.executable).parent / "backoffice")
    subprocess.run(
        [backoffice, "init", "--no-bootstrap-links", "--policy", str(folder / "policy.yaml")],
        env=env,
        check=True,
    )
    subprocess.run(
        [sys.executable, str(Path(__file__)), "--load", str(folder)], env=env, check=True
    )
    with psycopg.connect(f"{SERVER.rstrip('/')}/postgres", autocommit=True) as admin:
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{stamp}'")


def load(folder: Path) -> None:
    """(Run with Django set up on the benchmark database.) People, roles, the hierarchy,
    assignments and mitigations by ``COPY`` into staging tables, then one INSERT each."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from backoffice.cases.models import Case, Process

    admin = get_user_model().objects.get(username="admin.one")
    with transaction.atomic():
        case = Case.objects.create(
            process=Process.objects.get(key="mitigation"),
            definition={},
            maker=admin,
            status="released",
            payload={"note": "mitigations carried over from the previous IAM system"},
            payload_hash="",
            title="Carried-over mitigations",
        )
        with connection.cursor() as wrapper:
            cursor = wrapper.cursor
            for table, columns in STAGING.items():
                cursor.execute(f"CREATE TEMP TABLE s_{table} ({columns}) ON COMMIT DROP")
                with (
                    (folder / f"{table}.csv").open("rb") as handle,
                    cursor.copy(f"COPY s_{table} FROM STDIN (FORMAT csv, HEADER)") as copy,
                ):
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
                count = cursor.execute(f"SELECT count(*) FROM s_{table}").fetchone()
                print(f"  {table}: {count[0]:,} rows", flush=True)
            for statement in INSERTS:
                cursor.execute(
                    statement, {"case": case.pk, "admin": admin.pk, "from": CARRIED_OVER}
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


STAGING = {
    "users": "user_id text, name text",
    "roles": "role_id text, name text",
    "role_permissions": "role_id text, permission text",
    "role_hierarchy": "parent_role_id text, child_role_id text",
    "assignments": "user_id text, role_id text",
    "mitigations": "user_id text, risk_id text, control_id text, valid_until date",
}
INSERTS = (
    "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
    " is_staff, is_active, date_joined) SELECT '!', false, user_id, name, '', '', false, true,"
    " now() FROM s_users",
    "INSERT INTO access_role (created, last_updated, key, name, description, permissions)"
    " SELECT now(), now(), r.role_id, r.name, '', coalesce(p.permissions, '[]'::jsonb)"
    " FROM s_roles r LEFT JOIN (SELECT role_id, jsonb_agg(permission) AS permissions"
    " FROM s_role_permissions GROUP BY role_id) p USING (role_id)",
    "INSERT INTO access_role_contains (from_role_id, to_role_id) SELECT p.id, c.id"
    " FROM s_role_hierarchy h JOIN access_role p ON p.key = h.parent_role_id"
    " JOIN access_role c ON c.key = h.child_role_id",
    "INSERT INTO access_roleassignment (created, last_updated, user_id, role_id, valid_from,"
    " granted_by, approved_by, source) SELECT now(), now(), u.id, r.id, %(from)s::date, '', '',"
    " 'import' FROM s_assignments a JOIN auth_user u ON u.username = a.user_id"
    " JOIN access_role r ON r.key = a.role_id",
    "INSERT INTO access_mitigation (created, last_updated, person_id, risk, control,"
    " description, owner_id, monitor_id, valid_from, valid_until, case_id)"
    " SELECT now(), now(), u.id, m.risk_id, m.control_id, 'Carried over', %(admin)s,"
    " %(admin)s, least(m.valid_until, %(from)s::date), m.valid_until, %(case)s"
    " FROM s_mitigations m JOIN auth_user u ON u.username = m.user_id",
)

#: (c): the tables the live analysis reads, whole, as the server copies them
FLOOR = (
    "auth_user",
    "access_role",
    "access_role_contains",
    "access_roleassignment",
    "access_mitigation",
)


def copy_floor(url: str, out: Path) -> None:
    """``COPY table TO STDOUT`` for every table the analysis reads, into files in ``out``."""
    import psycopg

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for table in FLOOR:
            with (
                (out / f"{table}.copy.csv").open("wb") as handle,
                cursor.copy(f"COPY {table} TO STDOUT (FORMAT csv, HEADER)") as copy,
            ):
                for chunk in copy:
                    handle.write(chunk)


if __name__ == "__main__":
    if sys.argv[1] == "--load":
        load(Path(sys.argv[2]))
    elif sys.argv[1] == "--floor":
        copy_floor(sys.argv[2], Path(sys.argv[3]))
