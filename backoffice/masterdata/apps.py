from django.apps import AppConfig


class MasterdataConfig(AppConfig):
    """Customer master data: changed only through a released master-data-change case."""

    name = "backoffice.masterdata"
    label = "masterdata"
    verbose_name = "Master data"

    def ready(self) -> None:
        from backoffice.base.effects import register
        from backoffice.masterdata.effects import MasterDataChange

        register("masterdata.apply", MasterDataChange())
