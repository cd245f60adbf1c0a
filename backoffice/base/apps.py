from django.apps import AppConfig


class BaseConfig(AppConfig):
    """Shared bases: time stamps, idempotency records, the actor of a request."""

    name = "backoffice.base"
    label = "base"
    verbose_name = "Base"
