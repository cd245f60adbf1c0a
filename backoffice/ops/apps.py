from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operating Backoffice: init, demo, serve, policy."""

    name = "backoffice.ops"
    label = "ops"
    verbose_name = "Operations"
