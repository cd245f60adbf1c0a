"""#13: on SQLite, INSERT OR REPLACE must not rewrite an audit row (it skips DELETE triggers)."""

from django.db import migrations

from backoffice.audit import guard


def install_guard(apps, schema_editor):
    guard.install(schema_editor.connection)


def remove_no_replace(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for table in guard.TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0002_checkpoint_append_only_guard"),
    ]

    operations = [
        migrations.RunPython(install_guard, remove_no_replace),
    ]
