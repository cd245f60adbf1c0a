from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "backoffice.org"
    label = "org"
    verbose_name = "Organisation"
