"""#13: least privilege on PostgreSQL: an owner role migrates, the server's role only works.

The guard triggers (``audit.guard``) stop everybody but the tables' owner and superusers:
the owner may ``ALTER TABLE … DISABLE TRIGGER`` or drop them, a superuser may also
``SET session_replication_role = replica``. So in production the server connects as a
role that owns nothing and is no superuser (``BACKOFFICE_DATABASE_URL``). It may read and
write the application's tables, but only read and insert into the audit tables; migrations
run as the owner (``BACKOFFICE_MIGRATE_DATABASE_URL``), and after every ``migrate`` the
grants are put right again (``grant_app_role``, on ``post_migrate``). ``backoffice init
--create-roles`` creates both roles and the database (``do_create_database_roles``).
See docs/production.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dj_database_url
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.db import connections, transaction

from backoffice.audit import guard

__all__ = [
    "APP_PRIVILEGES",
    "AUDIT_PRIVILEGES",
    "app_role",
    "check_owns_tables",
    "do_create_database_roles",
    "grant_app_role",
    "migrating_as_owner",
]

#: What the server's role may do on the application's tables.
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
#: ... and on the audit tables: read and append, nothing else.
AUDIT_PRIVILEGES = "SELECT, INSERT"
#: Taken from BACKOFFICE_MIGRATE_DATABASE_URL; the database's name must be the same.
_OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


def _quote(name: str) -> str:
    """A PostgreSQL identifier, quoted (role names come from URLs)."""
    return '"' + name.replace('"', '""') + '"'


def _migrate_database() -> dict[str, Any] | None:
    owner: dict[str, Any] | None = getattr(settings, "MIGRATE_DATABASE", None)
    return owner


def _owner_settings(app: dict[str, Any]) -> dict[str, Any] | None:
    """The connection settings for migrating: the app's, with the owner's credentials."""
    owner = _migrate_database()
    if owner is None:
        return None
    configured = settings.DATABASES["default"]
    if owner["ENGINE"] != configured["ENGINE"] or owner["NAME"] != configured["NAME"]:
        raise ImproperlyConfigured(
            "BACKOFFICE_MIGRATE_DATABASE_URL must name the same database as "
            "BACKOFFICE_DATABASE_URL, with the owner's role"
        )
    # NAME stays the app's: under the test runner it is the test database.
    return app | {key: owner[key] for key in _OWNER_KEYS if key in owner}


def app_role() -> str | None:
    """The server's role when it is not the one that migrates (None: one role for both)."""
    owner = _migrate_database()
    user = settings.DATABASES["default"].get("USER")
    if owner is None or not user or owner.get("USER") == user:
        return None
    return str(user)


@contextmanager
def migrating_as_owner(connection: Any) -> Iterator[None]:
    """Run the block connected as the owner role, if one is configured."""
    app = connection.settings_dict
    owner = _owner_settings(app)
    if owner is None:
        yield
        return
    connection.close()
    connection.settings_dict = owner
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict = app


def check_owns_tables(connection: Any, command: str) -> None:
    """Refuse ``command`` (migrate, flush) for a role that does not own the tables.

    Such a role could not alter the tables anyway; this says why, and what to set.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
            " (SELECT pg_get_userbyid(relowner) FROM pg_class"
            "  WHERE oid = to_regclass('django_migrations')),"
            " has_schema_privilege(current_schema(), 'CREATE')"
        )
        user, superuser, owner, may_create = cursor.fetchone()
        if superuser:
            return
        if owner is not None:
            cursor.execute("SELECT pg_has_role(%s, 'USAGE')", [owner])
            if cursor.fetchone()[0]:
                return
        elif may_create:
            return
    raise CommandError(
        f"{command} must run as the role that owns the tables"
        f"{f' ({owner})' if owner else ''}, not as {user}: set BACKOFFICE_MIGRATE_DATABASE_URL "
        "to the owner role (docs/production.md)"
    )


def grant_app_role(sender: Any = None, using: str = "default", **kwargs: Any) -> None:
    """After ``migrate``: the server's role may use every table, the audit tables only append.

    Re-applied on every migrate, so tables created by later migrations are covered, and a
    privilege granted by hand on an audit table is taken away again.
    """
    role = app_role()
    connection = connections[using]
    if role is None or connection.vendor != "postgresql":
        return
    app, audit = _quote(role), ", ".join(guard.TABLES)
    # One transaction: a server running meanwhile never sees the audit tables closed to it.
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT current_user = %s, quote_ident(current_schema())", [role])
        same, schema = cursor.fetchone()
        if same:
            return
        for statement in (
            f"GRANT {APP_PRIVILEGES} ON ALL TABLES IN SCHEMA {schema} TO {app}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}",
            f"REVOKE ALL ON {audit} FROM {app}, PUBLIC",
            f"GRANT {AUDIT_PRIVILEGES} ON {audit} TO {app}",
            # The server never records migrations; whoever does, owns the tables.
            f"REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM {app}",
        ):
            cursor.execute(statement)


def _connect(url_settings: dict[str, Any], dbname: str | None = None) -> Any:
    import psycopg

    return psycopg.connect(
        host=url_settings.get("HOST") or None,
        port=url_settings.get("PORT") or None,
        user=url_settings.get("USER") or None,
        password=url_settings.get("PASSWORD") or None,
        dbname=dbname or url_settings.get("NAME") or "postgres",
        autocommit=True,
    )


def do_create_database_roles(admin_url: str) -> list[str]:
    """Create (or put right) the owner role, the server's role and the database; idempotent.

    ``admin_url`` is a superuser's connection. The roles' names and passwords are those of
    ``BACKOFFICE_MIGRATE_DATABASE_URL`` (owner) and ``BACKOFFICE_DATABASE_URL`` (server).
    Tables already in the database (a one-role installation) are handed to the owner.
    Returns what was done, one line each.
    """
    from psycopg import sql

    app = settings.DATABASES["default"]
    owner = _migrate_database()
    if not app["ENGINE"].endswith("postgresql"):
        raise CommandError("database roles need PostgreSQL (BACKOFFICE_DATABASE_URL)")
    if owner is None:
        raise CommandError("set BACKOFFICE_MIGRATE_DATABASE_URL to the owner role's URL")
    _owner_settings(app)  # the same database, or ImproperlyConfigured
    owner_role, app_role_name, dbname = owner["USER"], app["USER"], app["NAME"]
    if not owner_role or not app_role_name or owner_role == app_role_name:
        raise CommandError(
            "BACKOFFICE_MIGRATE_DATABASE_URL and BACKOFFICE_DATABASE_URL must name two "
            "different roles: the owner, and the server's"
        )
    admin = dj_database_url.parse(admin_url)
    done = []
    owner_id, server_id = sql.Identifier(owner_role), sql.Identifier(app_role_name)
    with _connect(admin) as conn:
        for role, password, extra in (
            (owner_role, owner.get("PASSWORD"), ""),
            (app_role_name, app.get("PASSWORD"), " NOINHERIT"),
        ):
            row = conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role]
            ).fetchone()
            if row and row[0]:
                raise CommandError(
                    f"{role} is a superuser: give Backoffice roles of its own (docs/production.md)"
                )
            if row is None:
                conn.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
            conn.execute(
                sql.SQL(
                    "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                    "NOBYPASSRLS" + extra
                ).format(sql.Identifier(role))
            )
            if password:
                conn.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
            done.append(f"role {role}: {'created' if row is None else 'exists, attributes reset'}")
        # The server's role must not be able to become the owner (SET ROLE).
        member = conn.execute(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
            [owner_role, app_role_name],
        ).fetchone()
        if member:
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(owner_id, server_id))
            done.append(f"role {app_role_name}: no longer a member of {owner_role}")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), owner_id)
            )
            done.append(f"database {dbname}: created, owned by {owner_role}")
    with _connect(admin, dbname) as conn:
        for statement in (
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            "GRANT USAGE, CREATE ON SCHEMA public TO {owner}",
            "REVOKE CREATE ON SCHEMA public FROM {app}",
            "GRANT USAGE ON SCHEMA public TO {app}",
            "GRANT CONNECT ON DATABASE {db} TO {owner}, {app}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            f"GRANT {APP_PRIVILEGES} ON TABLES TO {{app}}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
            "GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        ):
            conn.execute(
                sql.SQL(statement).format(owner=owner_id, app=server_id, db=sql.Identifier(dbname))
            )
        adopted = _adopt(conn, owner_role)
        if adopted:
            done.append(f"database {dbname}: {adopted} object(s) handed to {owner_role}")
    return done


#: The schema's objects someone else owns: tables, views, free sequences, functions (not
#: those of an extension).
_NOT_OWNED = """
SELECT 'TABLE', c.oid::regclass::text FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
  AND pg_get_userbyid(c.relowner) <> %(owner)s
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
UNION ALL
SELECT 'SEQUENCE', c.oid::regclass::text FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
  AND pg_get_userbyid(c.relowner) <> %(owner)s
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
UNION ALL
SELECT 'FUNCTION', p.oid::regprocedure::text FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND pg_get_userbyid(p.proowner) <> %(owner)s
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e')
"""


def _adopt(conn: Any, owner: str) -> int:
    """Hand the schema's tables, sequences and functions to the owner (a one-role install).

    Sequences that belong to a column move with their table.
    """
    from psycopg import sql

    objects = conn.execute(_NOT_OWNED, {"owner": owner}).fetchall()
    for kind, name in objects:
        # ``name`` is PostgreSQL's own quoted rendering (regclass/regprocedure).
        conn.execute(sql.SQL(f"ALTER {kind} {name} OWNER TO {{}}").format(sql.Identifier(owner)))
    return len(objects)
