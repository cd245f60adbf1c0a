from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who is calling: API tokens, logins, and what the caller may do."""

    name = "backoffice.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from backoffice.accounts import signals  # noqa: F401 - connects the login receivers
