from django.apps import AppConfig


class CreditConfig(AppConfig):
    """Credit decisions (MaRisk BTO 1.1): the ``credit`` engine, borrowers, registers."""

    name = "backoffice.credit"
    label = "credit"
    verbose_name = "Credit"

    def ready(self) -> None:
        from backoffice.base.effects import register
        from backoffice.cases.engines import register_engine
        from backoffice.credit.apply import CREDIT_APPLIER
        from backoffice.credit.effects import BorrowerChange
        from backoffice.credit.engine import CreditEngine
        from backoffice.org.appliers import register_applier

        register_engine("credit", CreditEngine())
        register("credit.borrower", BorrowerChange())  # #19: borrowers under four eyes
        register_applier(CREDIT_APPLIER)
