"""``backoffice changepassword``: refused (#13). Nobody sets another person's password."""

from backoffice.accounts.management.commands._refused import RefusedCommand


class Command(RefusedCommand):
    help = "Refused: passwords change on /password/ or by a user-admin case (docs/identities.md)."
    refusal = (
        "Nobody sets another person's password from the shell. People change their own on "
        "/password/; a forgotten one is reset by a four-eyes user-admin case, which mails "
        "the person a set-password link."
    )
