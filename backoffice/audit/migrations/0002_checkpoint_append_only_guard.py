"""Signed checkpoints, and triggers that make both audit tables append-only (#4)."""

from django.db import migrations, models

from backoffice.audit import guard


def install_guard(apps, schema_editor):
    guard.install(schema_editor.connection)


def remove_guard(apps, schema_editor):
    guard.remove(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField(db_index=True)),
                ("hash", models.CharField(max_length=64)),
                ("at", models.DateTimeField()),
                ("key", models.CharField(max_length=64)),
                ("signature", models.CharField(max_length=128)),
            ],
            options={
                "ordering": ["seq", "id"],
            },
        ),
        migrations.RunPython(install_guard, remove_guard),
    ]
