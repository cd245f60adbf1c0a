"""#18 pages: each person's notification settings (every mail links here), and in the
demo with ``--with-mail`` the mails the local SMTP sink received for the person."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from backoffice.base.actor import actor_of
from backoffice.base.http import act_and_tell
from backoffice.notify.models import NotificationSetting
from backoffice.notify.services import do_set_notification_mode, notification_mode


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    status = 200
    if request.method == "POST":
        mode = request.POST.get("mode", "")
        status = act_and_tell(
            request, lambda: do_set_notification_mode(actor, mode), _("Your choice was saved.")
        )
        if status == 200:
            return redirect("notify:settings")
    choices = [
        (NotificationSetting.EACH, _("A mail for each case that waits for me")),
        (NotificationSetting.DIGEST, _("One daily digest")),
        (NotificationSetting.NONE, _("No mail (unsubscribe)")),
    ]
    context = {
        "mode": notification_mode(request.user),
        "choices": choices,
        "sink": _sink() is not None,
    }
    return render(request, "notify/settings.html", context, status=status)


def _sink() -> Path | None:
    folder = getattr(settings, "MAIL_SINK_DIR", None)
    return Path(folder) if folder else None


@login_required
def sent_mails(request: HttpRequest) -> HttpResponse:
    """Demo only: the mails the local sink received, to the logged-in person's address."""
    folder = _sink()
    if folder is None:
        raise Http404
    address = str(getattr(request.user, "email", "")).lower()
    mails: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:200]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address and address in str(message.get("To", "")).lower():
            body = message.get_body(preferencelist=("plain",))
            mails.append(
                {
                    "subject": str(message.get("Subject", "")),
                    "date": str(message.get("Date", "")),
                    "body": body.get_content() if body is not None else "",
                }
            )
    return render(request, "notify/mails.html", {"mails": mails, "address": address})
