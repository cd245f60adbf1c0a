from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "backoffice.org"
    label = "org"
    verbose_name = "Organisation"

    def ready(self) -> None:
        from backoffice.base.effects import register
        from backoffice.base.pdf import register_letterhead
        from backoffice.base.references import register_directory
        from backoffice.org.appliers import register_applier
        from backoffice.org.effects import PolicyChange
        from backoffice.org.queries import institution_name, unit_directory
        from backoffice.org.services import ORGANISATION_APPLIER

        register("policy.apply", PolicyChange())
        register_directory("unit", unit_directory())
        register_applier(ORGANISATION_APPLIER)
        register_letterhead(institution_name)  # #19: the header of every PDF
