from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The four-eyes engine's persistence: processes, cases, their events, delegations."""

    name = "backoffice.cases"
    label = "cases"
    verbose_name = "Four-eyes cases"

    def ready(self) -> None:
        from backoffice.base.actor import register_part
        from backoffice.cases.apply import PROCESSES_APPLIER
        from backoffice.cases.queries import actor_delegations, actor_principals, actor_processes
        from backoffice.org.appliers import register_applier

        register_applier(PROCESSES_APPLIER)
        register_part("delegations", actor_delegations)
        register_part("principals", actor_principals)
        register_part("processes", actor_processes)
