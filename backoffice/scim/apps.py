from django.apps import AppConfig


class ScimConfig(AppConfig):
    """#18: SCIM 2.0 provisioning of joiners, movers and leavers by an HR system or IdP."""

    name = "backoffice.scim"
    label = "scim"
    verbose_name = "Provisioning (SCIM 2.0)"
