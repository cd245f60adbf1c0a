"""#13: in production the server's database role cannot lift the audit guard.

The owner of a table may disable or drop its triggers, a superuser may also switch them
off with ``session_replication_role``. So the server runs as a role that owns nothing, and
migrations as the owner: here with the real ``backoffice`` commands and server, on a
database and two roles of its own (roles are cluster-wide: unique names, dropped after).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from backoffice.ops.demo import DEMO_PASSWORD
from tests.cases.conftest import payment
from tests.support import cli_env, run_cli, running_server


@dataclass(frozen=True)
class Cluster:
    """A superuser's URL, and the URLs of the owner and the server's role, all unused yet."""

    admin: str
    owner: str
    app: str
    owner_role: str
    app_role: str
    database: str

    def env(self, var: Path, *, owner: bool = True) -> dict[str, str]:
        """The environment of a command: the server's role, and the owner's to migrate."""
        extra = {"BACKOFFICE_PLAIN_HTTP": "1"}
        if owner:
            extra |= {
                "BACKOFFICE_MIGRATE_DATABASE_URL": self.owner,
                "BACKOFFICE_ADMIN_DATABASE_URL": self.admin,
            }
        return cli_env(self.app, var, **extra)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    db = settings.DATABASES["default"]
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    tag = uuid.uuid4().hex[:10]
    owner_role, app_role, name = f"bo_owner_{tag}", f"bo_app_{tag}", f"backoffice_lp_{tag}"
    password = {owner_role: f"owner-{tag}", app_role: f"app-{tag}"}

    def url(role: str, database: str) -> str:
        secret = f":{urllib.parse.quote(password[role])}" if role in password else ""
        return f"postgresql://{role}{secret}@{host}:{port}/{database}"

    yield Cluster(
        admin=url(db["USER"] or "postgres", "postgres"),
        owner=url(owner_role, name),
        app=url(app_role, name),
        owner_role=owner_role,
        app_role=app_role,
        database=name,
    )
    admin = dict(host=host, port=port, user=db["USER"], dbname="postgres")
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{app_role}"')
        conn.execute(f'DROP ROLE IF EXISTS "{owner_role}"')


#: What whoever holds the server's database credentials might try, to rewrite the trail.
BYPASSES = [
    "UPDATE audit_auditevent SET reason = 'nothing to see' WHERE seq = 3",
    "DELETE FROM audit_auditevent WHERE seq > 3",
    "TRUNCATE audit_auditevent",
    "TRUNCATE audit_checkpoint",
    "DELETE FROM audit_checkpoint",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only",
    "SET session_replication_role = replica",
    "DROP TRIGGER audit_auditevent_append_only ON audit_auditevent",
    "DROP TABLE audit_auditevent",
    "ALTER TABLE audit_auditevent RENAME TO audit_old",
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN NEW; END $$",
    "CREATE TRIGGER audit_sneak BEFORE INSERT ON audit_auditevent "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "INSERT INTO audit_auditevent SELECT * FROM audit_auditevent WHERE seq = 3 "
    "ON CONFLICT (seq) DO UPDATE SET reason = 'nothing to see'",
]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_server_runs_as_a_role_that_can_append_to_the_trail_but_not_lift_its_guard(
    cluster: Cluster, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    # Migrates as the owner, then loads the policy as the server's role.
    created = run_cli("init", "--create-roles", "--demo-policy", env=cluster.env(var))
    assert created.returncode == 0, created.stdout + created.stderr
    assert f"role {cluster.owner_role}: created" in created.stdout
    assert f"database {cluster.database}: created, owned by {cluster.owner_role}" in created.stdout
    again = run_cli("init", "--create-roles", env=cluster.env(var))
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"role {cluster.app_role}: exists, attributes reset" in again.stdout
    # Two people get a password to make their own tokens with (set-up, not under test).
    with psycopg.connect(cluster.owner, autocommit=True) as conn:
        conn.execute(
            "UPDATE auth_user SET password = %s WHERE username IN ('anna.schmidt', 'martin.jung')",
            [make_password(DEMO_PASSWORD)],
        )
    server = cluster.env(var, owner=False)  # the server knows nothing but its own role
    tokens = {}
    for person in ("anna.schmidt", "martin.jung"):
        token = run_cli(
            "token",
            "create",
            person,
            "--name",
            "test",
            "--password-stdin",
            env=server,
            stdin=DEMO_PASSWORD,
        )
        assert token.returncode == 0, token.stderr
        tokens[person] = {"Authorization": f"Bearer {token.stdout.strip()}"}
    with running_server(server) as base:
        request = urllib.request.Request(
            f"{base}/api/v1/cases",
            data=json.dumps({"process": "payment-release", "payload": payment()}).encode(),
            headers=tokens["anna.schmidt"] | {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
            case_id = str(json.loads(response.read())["id"])
        verify = urllib.request.Request(
            f"{base}/api/v1/audit/verify", headers=tokens["martin.jung"]
        )
        with urllib.request.urlopen(verify, timeout=30) as response:
            assert json.loads(response.read())["ok"]
    for command in (["keygen"], ["checkpoint", "--to", str(tmp_path / "anchors.jsonl")]):
        signed = run_cli("audit", *command, env=server)
        assert signed.returncode == 0, signed.stderr

    with psycopg.connect(cluster.app, autocommit=True) as conn:
        (user, superuser) = conn.execute(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone() or ("", True)
        assert (user, superuser) == (cluster.app_role, False)
        count, head = conn.execute("SELECT count(*), max(seq) FROM audit_auditevent").fetchone()
        assert count == head and count > 20
        actions = {row[0] for row in conn.execute("SELECT DISTINCT action FROM audit_auditevent")}
        assert {"audit.checkpoint", "accounts.token.created", "policy.loaded"} <= actions
        started = conn.execute(
            "SELECT count(*) FROM audit_auditevent WHERE object_type = 'case' AND object_id = %s",
            [case_id],
        ).fetchone()
        assert started is not None and started[0] >= 1
        for statement in BYPASSES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (count,)

    verified = run_cli("audit", "verify", env=server)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"OK: {count} events (#1..#{count})")
    assert "1 checkpoint(s) matched" in verified.stdout
    # The server's role may neither migrate nor flush (which lifts the guard).
    for command in (["migrate", "--noinput"], ["flush", "--noinput"]):
        refused = run_cli(*command, env=server)
        assert refused.returncode != 0
        assert (
            f"must run as the role that owns the tables ({cluster.owner_role}), "
            f"not as {cluster.app_role}: set BACKOFFICE_MIGRATE_DATABASE_URL" in refused.stderr
        )
    # Migrating again (as the owner) keeps the server's grants as they are.
    assert run_cli("migrate", "--noinput", env=cluster.env(var)).returncode == 0
    with psycopg.connect(cluster.admin.rsplit("/", 1)[0] + f"/{cluster.database}") as conn:
        rights = conn.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner),"
            " has_table_privilege(%(app)s, c.oid, 'SELECT')"
            "  AND has_table_privilege(%(app)s, c.oid, 'INSERT'),"
            " has_table_privilege(%(app)s, c.oid, 'UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES')"
            " FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'",
            {"app": cluster.app_role},
        ).fetchall()
    assert {owner for _, owner, _, _ in rights} == {cluster.owner_role}
    appends = {name for name, _, appends, _ in rights if appends}
    changes = {name for name, _, _, changes in rights if changes}
    assert appends == {name for name, *_ in rights} - {"django_migrations"}
    assert changes == appends - {"audit_auditevent", "audit_checkpoint"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_create_roles_hands_a_one_role_installation_to_the_owner(
    cluster: Cluster, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    superuser = cluster.admin.rsplit("/", 1)[0]
    with psycopg.connect(f"{superuser}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{cluster.database}"')
    # As it was: everything migrated and owned by the one role the server used.
    before = run_cli("migrate", "--noinput", env=cli_env(f"{superuser}/{cluster.database}", var))
    assert before.returncode == 0, before.stderr
    created = run_cli("init", "--create-roles", env=cluster.env(var))
    assert created.returncode == 0, created.stdout + created.stderr
    assert f"object(s) handed to {cluster.owner_role}" in created.stdout
    with psycopg.connect(cluster.app, autocommit=True) as conn:
        for statement in BYPASSES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        conn.execute(  # and it still works on the tables that are its own to change
            "INSERT INTO django_session (session_key, session_data, expire_date) "
            "VALUES ('k', 'd', now())"
        )


@pytest.mark.django_db
def test_migrate_refuses_an_owner_url_for_another_database(settings: Any) -> None:
    settings.MIGRATE_DATABASE = settings.DATABASES["default"] | {
        "NAME": "somewhere_else",
        "USER": "backoffice_owner",
    }
    with pytest.raises(ImproperlyConfigured, match="must name the same database"):
        call_command("migrate", verbosity=0)


@pytest.mark.sqlite
@pytest.mark.django_db
def test_create_roles_says_it_needs_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKOFFICE_ADMIN_DATABASE_URL", "postgresql://postgres@localhost/postgres")
    with pytest.raises(CommandError, match="database roles need PostgreSQL"):
        call_command("init", "--create-roles")
