from django.apps import AppConfig


class CreditConfig(AppConfig):
    """Credit decisions (MaRisk BTO 1.1): the ``credit`` engine, borrowers, registers."""

    name = "backoffice.credit"
    label = "credit"
    verbose_name = "Credit"

    def ready(self) -> None:
        from backoffice.cases.engines import register_engine
        from backoffice.credit.engine import CreditEngine

        register_engine("credit", CreditEngine())
