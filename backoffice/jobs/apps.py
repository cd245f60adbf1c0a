from django.apps import AppConfig


class JobsConfig(AppConfig):
    """#19: long work (audit verify, large exports) run by the worker, with its progress."""

    name = "backoffice.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
