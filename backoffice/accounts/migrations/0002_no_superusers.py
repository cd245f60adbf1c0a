from typing import Any

from django.conf import settings
from django.db import migrations


def clear_superusers(apps: Any, schema_editor: Any) -> None:
    """#13: is_superuser passed every Django permission check without a role or a case."""
    app_label, model = settings.AUTH_USER_MODEL.split(".")
    apps.get_model(app_label, model).objects.filter(is_superuser=True).update(is_superuser=False)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_tokens"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(clear_superusers, migrations.RunPython.noop)]
