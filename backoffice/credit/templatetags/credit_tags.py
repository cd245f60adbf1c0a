"""Formatting of report cells: on the page in the reader's format (amounts, dates, words,
case links); the CSV keeps ``format_cell``'s plain ISO text (#19)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from backoffice.base.context import cached
from backoffice.cases.models import ALL_STATUS_LABELS
from backoffice.core.labels import text_of
from backoffice.credit.engine import live_credit_policy
from backoffice.credit.queries import format_cell
from backoffice.org.queries import display_names

register = template.Library()


def money(value: Decimal, currency: str) -> str:
    """``1,500,000.00 EUR`` / ``1.500.000,00 EUR``, as the pages' ``money`` filter writes it."""
    amount = number_format(value, 2, use_l10n=True, force_grouping=True)
    return f"{amount} {currency}".strip()


def person(login: Any) -> str:
    text = str(login or "")
    return display_names().get(text, text)


#: the columns' titles on the page (the CSV's header keeps the ids)
COLUMN_TITLES = {
    "case": gettext_lazy("Case"),
    "credit": gettext_lazy("Credit"),
    "status": gettext_lazy("State"),
    "borrower": gettext_lazy("Borrower number"),
    "borrower_name": gettext_lazy("Borrower"),
    "group": gettext_lazy("Group"),
    "product": gettext_lazy("Product"),
    "requested": gettext_lazy("Requested"),
    "amount": gettext_lazy("Amount"),
    "exposure": gettext_lazy("Group exposure"),
    "risk_relevant": gettext_lazy("Risk-relevant"),
    "required_level": gettext_lazy("Required level"),
    "escalation_level": gettext_lazy("Escalated to"),
    "votes": gettext_lazy("Votes"),
    "rating": gettext_lazy("Rating"),
    "full_board": gettext_lazy("Full board because"),
    "flags": gettext_lazy("Flags"),
    "justification": gettext_lazy("Justification against the back-office vote"),
    "decided_at": gettext_lazy("Decided"),
    "last_review": gettext_lazy("Last review"),
    "review_due": gettext_lazy("Review due"),
    "days_overdue": gettext_lazy("Days overdue"),
    "stage": gettext_lazy("Stage"),
    "case_lead": gettext_lazy("Case lead"),
}

#: the flags of the risk report in words (CR-6)
FLAG_LABELS = {
    "deviating_decision": gettext_lazy("decided against the back-office vote"),
    "back_office_board_decision": gettext_lazy("decided by the back office's board member"),
}

#: #19: levels that are bodies, not rungs named L1…L5, and why the full board decides, in words
LEVEL_WORDS = {
    "board": gettext_lazy("board"),
    "committee": gettext_lazy("committee"),
    "full-board": gettext_lazy("full board"),
}
FULL_BOARD_REASONS = {
    "large_exposure": gettext_lazy("large exposure"),
    "insider_loan": gettext_lazy("insider loan"),
    "full_board_level": gettext_lazy("the full board's level"),
}

#: columns the page folds into others (the amount carries its currency)
HIDDEN_ON_PAGE = frozenset({"currency"})


@register.filter
def page_columns(columns: tuple[str, ...]) -> list[str]:
    return [c for c in columns if c not in HIDDEN_ON_PAGE]


@register.filter
def cell(row: dict[str, Any], column: str) -> str:
    """A cell as the CSV has it (plain text, ISO dates)."""
    value = row.get(column)
    return "" if value is None else format_cell(value)


def _product_names() -> dict[str, Any]:
    """The live credit policy's products by id, read once a request."""

    def read() -> dict[str, Any]:
        policy = live_credit_policy()
        return {p.id: p.name for p in policy.products} if policy is not None else {}

    names: dict[str, Any] = cached("credit:product_names", read)
    return names


@register.filter
def show_cell(row: dict[str, Any], column: str) -> str:
    """A cell as a person reads it: amounts with their currency, dates in the page's
    format, yes/no and flags in words, the case number a link to the case."""
    value = row.get(column)
    if value is None or value == "":
        return ""
    if column == "case":
        return format_html('<a href="{}">#{}</a>', reverse("cases:detail", args=[value]), value)
    if column == "status":
        return str(ALL_STATUS_LABELS.get(str(value), value))
    if column == "votes":
        return "; ".join(_vote(v) for v in row.get("vote_list", []))
    if column == "justification":
        return "; ".join(
            f"{person(v['actor'])}: {v['justification']}"
            for v in row.get("vote_list", [])
            if v.get("justification")
        )
    if column == "case_lead":
        return person(value)
    if column == "product":  # #19 defect 13: by its name, not its id
        return text_of(_product_names().get(str(value), value), get_language())
    if column == "flags":
        return ", ".join(str(FLAG_LABELS.get(f, f)) for f in row.get("flag_list", []))
    if column in ("required_level", "escalation_level"):
        return str(LEVEL_WORDS.get(str(value), value))
    if column == "full_board":
        return ", ".join(str(FULL_BOARD_REASONS.get(r, r)) for r in str(value).split(", "))
    if isinstance(value, Decimal):
        return money(value, row.get("currency", ""))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return str(date_filter(value, "SHORT_DATETIME_FORMAT"))
    if isinstance(value, date):
        return str(date_filter(value, "SHORT_DATE_FORMAT"))
    return format_cell(value)


def _vote(vote: dict[str, Any]) -> str:
    side = {"market": _("market"), "back_office": _("back office"), "board": _("board")}
    decision = {"approve": _("approve"), "reject": _("reject")}
    text = f"{person(vote['actor'])}: {decision.get(vote['decision'], vote['decision'])}"
    details = [side.get(vote["side"], vote["side"])]
    if vote.get("level"):
        details.append(str(LEVEL_WORDS.get(vote["level"], vote["level"])))
    if vote.get("kind") == "decision":
        details.append(_("decision"))
    return f"{text} ({', '.join(details)})"


@register.filter
def column_title(column: str) -> str:
    return str(COLUMN_TITLES.get(column, column.replace("_", " ").capitalize()))


#: #19: the core's reason for risk relevance (core.credit.state.assess), in the reader's words
_RELEVANCE = (
    (
        re.compile(r"product (\S+) is always risk-relevant"),
        gettext_lazy("product %(product)s is always risk-relevant"),
    ),
    (
        re.compile(r"product (\S+) is never risk-relevant"),
        gettext_lazy("product %(product)s is never risk-relevant"),
    ),
    (
        re.compile(r"group exposure ([\d,.]+) (\w{3}) is below ([\d,.]+) (\w{3})"),
        gettext_lazy("group exposure %(exposure)s is below %(threshold)s"),
    ),
    (
        re.compile(r"group exposure ([\d,.]+) (\w{3}) reaches ([\d,.]+) (\w{3})"),
        gettext_lazy("group exposure %(exposure)s reaches %(threshold)s"),
    ),
)


@register.filter
def relevance(why: str) -> str:
    """Why a credit is (not) risk-relevant, with amounts in the page's format."""
    for pattern, words in _RELEVANCE:
        found = pattern.fullmatch(why or "")
        if found is None:
            continue
        if len(found.groups()) == 1:
            return str(words) % {"product": found[1]}
        exposure = money(Decimal(found[1].replace(",", "")), found[2])
        threshold = money(Decimal(found[3].replace(",", "")), found[4])
        return str(words) % {"exposure": exposure, "threshold": threshold}
    return why


@register.filter
def full_board_reason(reason: str) -> str:
    """Why the full board decides (CR-7), in words."""
    return str(FULL_BOARD_REASONS.get(reason, reason))


_ESCALATED = re.compile(r"the votes differ; escalated to (?P<level>.+) \(CR-4\)")


@register.filter
def system_comment(comment: str, level_names: dict[str, Any] | None) -> str:
    """#19: the comment the credit engine writes when it escalates (core.credit.voting), in
    the reader's language with the level's name from the policy; any other comment is what
    a person wrote and stays as written."""
    found = _ESCALATED.fullmatch(comment or "")
    if found is None:
        return comment
    level = next(
        (
            text_of(name, get_language())
            for name in (level_names or {}).values()
            if name == found["level"]
        ),
        found["level"],
    )
    return _("the votes differ; escalated to %(level)s (CR-4)") % {"level": level}
