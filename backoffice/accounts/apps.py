from typing import Any

from django.apps import AppConfig
from django.core import checks


class AccountsConfig(AppConfig):
    """Who is calling: API tokens, logins, and what the caller may do."""

    name = "backoffice.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from backoffice.accounts import signals  # noqa: F401 - login receivers, no superusers
        from backoffice.accounts.effects import UserAdministration
        from backoffice.accounts.services import person_directory
        from backoffice.base.effects import register
        from backoffice.base.references import register_directory

        register("accounts.user_admin", UserAdministration())  # #13
        register_directory("person", person_directory())
        checks.register(_mail_goes_somewhere, checks.Tags.security, deploy=True)


def _mail_goes_somewhere(**kwargs: Any) -> list[checks.CheckMessage]:
    """#13: set-password links and tokens for others travel by e-mail; on the console they
    end up in the server's log, where whoever reads it could use them."""
    from django.conf import settings

    if settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        return [
            checks.Warning(
                "Set-password links and API tokens are mailed; the console backend writes "
                "them into the server's log.",
                hint="Set BACKOFFICE_SMTP_URL to a real mail server (docs/integration.md).",
                id="accounts.W001",
            )
        ]
    return []
