from django.apps import AppConfig


class CreditConfig(AppConfig):
    """Credit decisions (MaRisk BTO 1.1): the ``credit`` engine, borrowers, registers."""

    name = "backoffice.credit"
    label = "credit"
    verbose_name = "Credit"

    def ready(self) -> None:
        from backoffice.cases.engines import register_engine
        from backoffice.credit.apply import CREDIT_APPLIER
        from backoffice.credit.engine import CreditEngine
        from backoffice.org.appliers import register_applier

        register_engine("credit", CreditEngine())
        register_applier(CREDIT_APPLIER)
