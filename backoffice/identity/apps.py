from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """#18: single sign-on (OpenID Connect) and a second factor for local passwords."""

    name = "backoffice.identity"
    label = "identity"
    verbose_name = "Identity"
