"""The trading pages (#17): trades with the booking form, one trade with settlement's and
control's forms, and the four reports. The same services and queries as the API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_http_methods

from backoffice.base.actor import actor_of
from backoffice.base.http import act_and_tell
from backoffice.base.pages import next_url, page_of
from backoffice.core.errors import DomainError, http_status_for
from backoffice.core.trading import BOOK, CONFIRM, CONTROL
from backoffice.trading import queries
from backoffice.trading.forms import CloseForm, TermsForm
from backoffice.trading.services import (
    do_book_trade,
    do_close_off_market,
    do_confirm_trade,
    trading_policy,
)

__all__ = ["trades", "trade", "report"]

#: the states the pages show translated (``{% translate t.status %}``)
STATES = [
    gettext_noop("booked"),
    gettext_noop("cancelled"),
    gettext_noop("unconfirmed"),
    gettext_noop("confirmed"),
    gettext_noop("unchecked"),
    gettext_noop("conform"),
    gettext_noop("off_market"),
    gettext_noop("closed"),
    gettext_noop("matched"),
    gettext_noop("mismatched"),
    gettext_noop("unmatched"),
]

#: column titles of the trading pages, translated (the CSV keeps the column names)
TITLES = {
    "id": gettext_lazy("Trade"),
    "age_days": gettext_lazy("Age (days)"),
    "trade_date": gettext_lazy("Trade date"),
    "value_date": gettext_lazy("Value date"),
    "instrument": gettext_lazy("Instrument"),
    "asset_class": gettext_lazy("Asset class"),
    "side": gettext_lazy("Side"),
    "quantity": gettext_lazy("Quantity"),
    "price": gettext_lazy("Price"),
    "counterparty": gettext_lazy("Counterparty"),
    "desk": gettext_lazy("Desk"),
    "booked_by": gettext_lazy("Booked by"),
    "booked_at": gettext_lazy("Booked at"),
    "late": gettext_lazy("Late"),
    "status": gettext_lazy("Status"),
    "confirmation": gettext_lazy("Confirmation"),
    "match": gettext_lazy("Match"),
    "mismatched_fields": gettext_lazy("Differences"),
    "market_check": gettext_lazy("Market check"),
    "reference_price": gettext_lazy("Reference price"),
    "deviation_pct": gettext_lazy("Deviation (%)"),
    "open": gettext_lazy("Open"),
    "closed_by": gettext_lazy("Closed by"),
    "closed_at": gettext_lazy("Closed at"),
    "close_reason": gettext_lazy("Reason"),
    "trader": gettext_lazy("Trader"),
    "trades": gettext_lazy("Trades"),
    "cancelled": gettext_lazy("Cancelled"),
    "rebooked": gettext_lazy("Rebooked"),
}

REPORTS = {
    "unconfirmed": (gettext_lazy("Unconfirmed trades by age"), "unconfirmed"),
    "off-market": (gettext_lazy("Off-market trades"), "off-market"),
    "corrections": (gettext_lazy("Cancels and rebooks per trader"), "corrections"),
    "late": (gettext_lazy("Late trades"), "late"),
}

DESCRIPTIONS = {
    "unconfirmed": gettext_lazy(
        "Booked trades settlement has not confirmed yet, oldest first (TRD-2)."
    ),
    "off-market": gettext_lazy(
        "Trades whose price was outside the tolerance around the reference price, and who "
        "in trade or risk control closed them, with the reason (TRD-3)."
    ),
    "corrections": gettext_lazy(
        "Each trader's trades cancelled and rebooked by released correction cases (TRD-4)."
    ),
    "late": gettext_lazy(
        "Trades booked after the policy's cut-off on their trade date or on a later day (TRD-4)."
    ),
}


def _instruments() -> list[tuple[str, str]]:
    return [(i.id, f"{i.id} {i.name}") for i in trading_policy().instruments]


def _refused(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(
        request, "trading/refused.html", {"message": exc.message}, status=http_status_for(exc.code)
    )


@login_required
@require_http_methods(["GET", "POST"])
def trades(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    try:
        listing = queries.get_trades(actor)
    except DomainError as exc:
        return _refused(request, exc)
    may_book = BOOK in actor.permissions
    status = 200
    form = None
    if may_book:
        today = timezone.localdate()
        initial = {"trade_date": today, "value_date": today}
        form = TermsForm(
            request.POST or None, instruments=_instruments(), initial=initial, prefix="book"
        )
        if request.method == "POST":
            if form.is_valid():
                terms = form.terms()
                status = act_and_tell(
                    request, lambda: do_book_trade(actor, terms), _("The trade is booked.")
                )
                if status == 200:
                    return redirect("trading:trades")
            else:
                status = 422
    elif request.method == "POST":
        return _refused(request, DomainError("trading.forbidden", _("Only traders book trades.")))
    sorted_ = queries.TRADE_SORTING.of(request)  # #19
    page = page_of(request, listing.records, sorted_.order)
    context = {
        **sorted_.context(),
        "rows": [listing.row(t) for t in page.items],
        "next_url": next_url(request, page.next),
        "form": form,
        "reports": REPORTS,
    }
    return render(request, "trading/trades.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def trade(request: HttpRequest, trade_id: int) -> HttpResponse:
    actor = actor_of(request)
    try:
        found = queries.access_trade_by_id(actor, trade_id)
    except DomainError as exc:
        return _refused(request, exc)
    confirm = (
        TermsForm(
            request.POST if "confirm" in request.POST else None,
            instruments=_instruments(),
            prefix="confirm",
            initial={"instrument": found.instrument, "counterparty": found.counterparty},
        )
        if CONFIRM in actor.permissions
        else None
    )
    close = (
        CloseForm(request.POST if "close" in request.POST else None, prefix="close")
        if CONTROL in actor.permissions
        else None
    )
    status = 200
    if request.method == "POST":
        if "confirm" in request.POST and confirm is not None:
            if confirm.is_valid():
                theirs = confirm.terms()
                status = act_and_tell(
                    request,
                    lambda: do_confirm_trade(actor, trade_id, theirs),
                    _("The counterparty's confirmation was matched against the trade."),
                )
            else:
                status = 422
        elif "close" in request.POST and close is not None:
            if close.is_valid():
                reason = close.cleaned_data["reason"]
                status = act_and_tell(
                    request,
                    lambda: do_close_off_market(actor, trade_id, reason),
                    _("The off-market trade is closed."),
                )
            else:
                status = 422
        else:
            return _refused(
                request, DomainError("trading.forbidden", _("You may not do this to a trade."))
            )
        if status == 200:
            return redirect("trading:trade", trade_id=trade_id)
    row = queries.trade_row(
        found if request.method == "GET" else queries.access_trade_by_id(actor, trade_id)
    )
    context = {
        "trade": row,
        "fields": [(TITLES[k], _shown(k, v)) for k, v in row.items() if k in TITLES],
        "confirm": confirm
        if row["status"] == "booked" and row["confirmation"] != "confirmed"
        else None,
        "close": close if row["market_check"] == "off_market" else None,
    }
    return render(request, "trading/trade.html", context, status=status)


#: the columns whose values are states (translated on the page, kept in the CSV)
_STATE_COLUMNS = {"side", "status", "confirmation", "match", "market_check"}


def _shown(column: str, value: Any) -> Any:
    """A value as the trade page shows it: states and yes/no in the reader's language."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if column in _STATE_COLUMNS and value:
        return _(str(value))
    return value


def _report(actor: Any, name: str) -> Any:
    if name == "unconfirmed":
        return queries.get_unconfirmed(actor, timezone.localdate())
    if name == "off-market":
        return queries.get_off_market(actor)
    if name == "corrections":
        return queries.get_corrections(actor)
    return queries.get_late(actor)


@login_required
def report(request: HttpRequest, name: str) -> HttpResponse:
    try:
        found = _report(actor_of(request), name)
    except DomainError as exc:
        return _refused(request, exc)
    page = found.shown(page_of(request, found.records, found.order))
    context = {
        "title": REPORTS[name][0],
        "description": DESCRIPTIONS[name],
        "columns": [(c, TITLES.get(c, c)) for c in found.columns],
        "rows": page.items,
        "next_url": next_url(request, page.next),
        "csv_url": f"/api/v1/trading/reports/{name}?format=csv",
        "reports": REPORTS,
    }
    return render(request, "trading/report.html", context)
