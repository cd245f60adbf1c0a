from django.apps import AppConfig


class WebConfig(AppConfig):
    """What every page shares: layout helpers, navigation counts, language, the dashboard."""

    name = "backoffice.web"
    label = "web"
    verbose_name = "Web UI"

    def ready(self) -> None:
        from backoffice.web import auth  # noqa: F401 - connects the failed-login receiver
