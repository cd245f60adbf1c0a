from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "backoffice.org"
    label = "org"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from backoffice.cases.effects import register
        from backoffice.org.effects import PolicyChange

        register("policy.apply", PolicyChange())
