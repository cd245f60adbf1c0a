from django.apps import AppConfig


class WebConfig(AppConfig):
    """What every page shares: layout helpers, navigation counts, language, the dashboard."""

    name = "backoffice.web"
    label = "web"
    verbose_name = "Web UI"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from backoffice.web import auth  # noqa: F401 - connects the failed-login receiver

        # #13: Django's own admin site is never mounted (ours is ``readonly_admin.site``);
        # its user and group pages are taken off it all the same, should anyone mount it.
        # This app comes after django.contrib.admin, whose ready() registered them.
        for model in (get_user_model(), Group):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
