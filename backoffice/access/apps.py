from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "backoffice.access"
    label = "access"
    verbose_name = "Access governance"
