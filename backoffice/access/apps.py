from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "backoffice.access"
    label = "access"
    verbose_name = "Access governance"

    def ready(self) -> None:
        from backoffice.access.apply import ACCESS_APPLIER
        from backoffice.access.effects import DelegationGrant, MitigationGrant, RoleGrant
        from backoffice.cases.effects import register
        from backoffice.org.appliers import register_applier

        register("access.grant", RoleGrant())
        register("access.mitigate", MitigationGrant())
        register("access.delegate", DelegationGrant())
        register_applier(ACCESS_APPLIER)
