"""Words the pages show from data (actions, event kinds, lines, roles), marked for translation.

Templates translate them at run time (``{% translate e.kind %}``); marking them here puts
them into the message catalogue, since ``makemessages`` cannot see values.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

__all__ = ["VOCABULARY"]

VOCABULARY = (
    # actions
    gettext_noop("Submit"),
    gettext_noop("Approve"),
    gettext_noop("Release"),
    gettext_noop("Return"),
    gettext_noop("Reject"),
    gettext_noop("Withdraw"),
    gettext_noop("Comment"),
    gettext_noop("Amend"),
    # #19: a credit case's commands and what they leave in its timeline
    gettext_noop("vote"),
    gettext_noop("decide"),
    gettext_noop("close"),
    gettext_noop("control"),
    gettext_noop("voted"),
    gettext_noop("decided"),
    gettext_noop("escalated"),
    gettext_noop("closed"),
    gettext_noop("controlled"),
    # #19: a role grant's access risk before mitigation (the levels are translated already)
    gettext_noop("none"),
    gettext_noop("submit"),
    gettext_noop("approve"),
    gettext_noop("release"),
    gettext_noop("return"),
    gettext_noop("reject"),
    gettext_noop("withdraw"),
    gettext_noop("comment"),
    # what happened to a case
    gettext_noop("started"),
    gettext_noop("submitted"),
    gettext_noop("amended"),
    gettext_noop("approved"),
    gettext_noop("released"),
    gettext_noop("rejected"),
    gettext_noop("returned"),
    gettext_noop("withdrawn"),
    gettext_noop("commented"),
    gettext_noop("denied"),
    # membership roles
    gettext_noop("member"),
    gettext_noop("head"),
    gettext_noop("deputy"),
    # lines
    gettext_noop("management"),
    gettext_noop("market"),
    gettext_noop("back office"),
    gettext_noop("risk control"),
    gettext_noop("trading"),
    gettext_noop("settlement"),
    gettext_noop("research"),
    gettext_noop("advisory"),
    gettext_noop("underwriting"),
    gettext_noop("compliance"),
    gettext_noop("internal audit"),
    gettext_noop("service"),
    gettext_noop("staff"),
    gettext_noop("support"),
)
