"""``makemessages`` that also finds the core's messages, marked with ``N_()`` (no Django there)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
