from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The four-eyes engine's persistence: processes, cases, their events, delegations."""

    name = "backoffice.cases"
    label = "cases"
    verbose_name = "Four-eyes cases"
