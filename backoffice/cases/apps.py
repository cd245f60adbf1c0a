from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The four-eyes engine's persistence: processes, cases, their events, delegations."""

    name = "backoffice.cases"
    label = "cases"
    verbose_name = "Four-eyes cases"

    def ready(self) -> None:
        from backoffice.cases.apply import PROCESSES_APPLIER
        from backoffice.org.appliers import register_applier

        register_applier(PROCESSES_APPLIER)
