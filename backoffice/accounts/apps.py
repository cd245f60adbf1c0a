from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who is calling: API tokens, logins, and what the caller may do."""

    name = "backoffice.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from backoffice.accounts import signals  # noqa: F401 - login receivers, no superusers
        from backoffice.accounts.effects import UserAdministration
        from backoffice.cases.effects import register

        register("accounts.user_admin", UserAdministration())  # #13
