from django.apps import AppConfig


class NotifyConfig(AppConfig):
    """#18: mail and reminders, webhooks and the event feed, from one outbox."""

    name = "backoffice.notify"
    label = "notify"
    verbose_name = "Mail and webhooks"

    def ready(self) -> None:
        from backoffice.audit.services import register_listener
        from backoffice.base.effects import register
        from backoffice.notify.effects import CreateWebhook
        from backoffice.notify.services import on_audit_events

        register_listener(on_audit_events)
        register("notify.webhook", CreateWebhook())
