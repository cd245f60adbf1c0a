from django.db import migrations, models


class Migration(migrations.Migration):
    """#13: people created or deactivated by a user-admin case are not the policy's to undo."""

    dependencies = [
        ("org", "0002_membership_exception"),
    ]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="source",
            field=models.CharField(default="policy", max_length=32),
        ),
        migrations.AddField(
            model_name="profile",
            name="deactivated_by",
            field=models.CharField(blank=True, max_length=32),
        ),
    ]
