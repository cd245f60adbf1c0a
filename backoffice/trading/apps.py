from django.apps import AppConfig


class TradingConfig(AppConfig):
    """Trading and settlement (#17): trades, confirmations, reference prices, corrections."""

    name = "backoffice.trading"
    label = "trading"
    verbose_name = "Trading and settlement"

    def ready(self) -> None:
        from backoffice.base.effects import register
        from backoffice.trading.effects import Rebook

        register("trading.rebook", Rebook())
