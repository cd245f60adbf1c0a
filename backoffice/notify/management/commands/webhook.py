"""``backoffice webhook list|secret ID|rotate ID``: the operator's side of subscriptions.

Subscriptions are created only by released ``webhook-subscription`` cases (four eyes).
The operator hands the signing secret to the receiving system and rotates it; the old
secret keeps signing beside the new one for ``--overlap-hours`` so the receiver can switch.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backoffice.base.actor import cli_actor
from backoffice.notify.models import Webhook
from backoffice.notify.services import do_rotate_secret


class Command(BaseCommand):
    help = "List webhook subscriptions, show one's signing secret, or rotate it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "secret", "rotate"])
        parser.add_argument("webhook", nargs="?", type=int)
        parser.add_argument("--overlap-hours", type=int, default=24)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for hook in Webhook.objects.select_related("subscriber"):
                state = "active" if hook.active else f"disabled: {hook.disabled_reason}"
                self.stdout.write(
                    f"{hook.pk}\t{hook.url}\t{','.join(hook.types)}\t"
                    f"{hook.subscriber.username}\tcase {hook.case_id}\t{state}"
                )
            return
        if options["webhook"] is None:
            raise CommandError("name the webhook: backoffice webhook secret|rotate ID")
        if not Webhook.objects.filter(pk=options["webhook"]).exists():
            raise CommandError(f"there is no webhook {options['webhook']}")
        if options["action"] == "secret":
            self.stdout.write(Webhook.objects.get(pk=options["webhook"]).secret)
            return
        overlap = timedelta(hours=options["overlap_hours"])
        self.stdout.write(do_rotate_secret(cli_actor(), options["webhook"], overlap=overlap))
