from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The four-eyes engine's persistence: processes, cases, their events, delegations."""

    name = "backoffice.cases"
    label = "cases"
    verbose_name = "Four-eyes cases"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from backoffice.audit.queries import AuditScope, register_audit_scope
        from backoffice.base.actor import register_part
        from backoffice.cases.apply import PROCESSES_APPLIER
        from backoffice.cases.queries import (
            actor_delegations,
            actor_principals,
            actor_processes,
            events_of_process,
            process_choices,
        )
        from backoffice.org.appliers import register_applier

        register_applier(PROCESSES_APPLIER)
        register_part("delegations", actor_delegations)
        register_part("principals", actor_principals)
        register_part("processes", actor_processes)
        # #19: the audit list filters by process through the cases of that process
        register_audit_scope(
            "process", AuditScope(_("Process"), process_choices, events_of_process)
        )
