"""``backoffice createsuperuser``: refused (#13). Backoffice has no superusers."""

from backoffice.accounts.management.commands._refused import RefusedCommand


class Command(RefusedCommand):
    help = "Refused: Backoffice has no superusers (docs/identities.md)."
    refusal = (
        "Backoffice has no superusers. The first two administrators are named in the "
        "policy's bootstrap section and get a set-password link from `backoffice init`; "
        "everyone else's login is made by a four-eyes user-admin case."
    )
