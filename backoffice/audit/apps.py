from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "backoffice.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from backoffice.audit.dbroles import grant_app_role

        # #13: once per migrate (sender=self), as the owner, whatever the migrations created.
        post_migrate.connect(grant_app_role, sender=self, dispatch_uid="audit.grant_app_role")
