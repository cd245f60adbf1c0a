"""The trading API under /api/v1/trading/ (#17): book, confirm, import, close, reports.

Thin: the services decide and record. A correction of a booked trade is a case
(``POST /api/v1/cases`` with process ``trade-correction``), released by settlement.
Reports are paged (``?after=&limit=``, the next page in ``Link``) or, with
``?format=csv``, every row as CSV.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from ninja import Query, Router

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS, csv_download, idempotent
from backoffice.base.pages import PageIn, answer_page
from backoffice.credit.queries import Report
from backoffice.trading import queries
from backoffice.trading.schemas import (
    CloseIn,
    CorrectionsOut,
    ImportIn,
    ImportOut,
    LateOut,
    OffMarketOut,
    TermsIn,
    TradeOut,
    UnconfirmedOut,
)
from backoffice.trading.services import (
    do_book_trade,
    do_close_off_market,
    do_confirm_trade,
    do_import_confirmations,
    do_import_reference_prices,
)

__all__ = ["router"]

router = Router(tags=["trading"])


class Format(PageIn):
    """A page of JSON (``?after=&limit=``) or, with ``?format=csv``, every row as CSV."""

    format: Literal["json", "csv", "xlsx"] = "json"


def _answer(
    request: HttpRequest, response: HttpResponse, report: Report[Any], params: Format, name: str
) -> Any:
    def csv() -> HttpResponseBase:
        return csv_download(f"{name}.csv", report.columns, report.cells(), params.format)

    return answer_page(
        request,
        response,
        report,
        params.after,
        params.limit,
        csv if params.format != "json" else None,
    )


def _trade_out(trade: Any) -> TradeOut:
    return TradeOut(**queries.trade_row(trade))


@router.post("/trades", response={201: TradeOut, **PROBLEMS}, summary="Book a trade (traders)")
def book_trade(request: HttpRequest, body: TermsIn) -> HttpResponse:
    return idempotent(
        request, lambda: (201, _trade_out(do_book_trade(actor_of(request), body.terms())))
    )


@router.get(
    "/trades",
    response={200: list[TradeOut], **PROBLEMS},
    summary="Trades, newest first (paged)",
)
def list_trades(request: HttpRequest, params: Query[PageIn], response: HttpResponse) -> Any:
    report = queries.get_trades(actor_of(request))
    return answer_page(request, response, report, params.after, params.limit)


@router.get("/trades/{trade_id}", response={200: TradeOut, **PROBLEMS}, summary="One trade")
def get_trade(request: HttpRequest, trade_id: int) -> TradeOut:
    return _trade_out(queries.access_trade_by_id(actor_of(request), trade_id))


@router.post(
    "/trades/{trade_id}/confirmation",
    response={200: TradeOut, **PROBLEMS},
    summary="Match the trade against the counterparty's confirmation (settlement, TRD-2)",
)
def confirm_trade(request: HttpRequest, trade_id: int, body: TermsIn) -> HttpResponse:
    return idempotent(
        request,
        lambda: (200, _trade_out(do_confirm_trade(actor_of(request), trade_id, body.terms()))),
    )


@router.post(
    "/trades/{trade_id}/close-off-market",
    response={200: TradeOut, **PROBLEMS},
    summary="Close an off-market trade with a reason (trade or risk control, TRD-3)",
)
def close_off_market(request: HttpRequest, trade_id: int, body: CloseIn) -> HttpResponse:
    return idempotent(
        request,
        lambda: (200, _trade_out(do_close_off_market(actor_of(request), trade_id, body.reason))),
    )


@router.post(
    "/confirmations",
    response={200: ImportOut, **PROBLEMS},
    summary="Import counterparty confirmations as CSV (settlement; a bad row: 422, nothing done)",
)
def import_confirmations(request: HttpRequest, body: ImportIn) -> HttpResponse:
    def run() -> tuple[int, ImportOut]:
        trades = do_import_confirmations(actor_of(request), body.content, body.filename)
        return 200, ImportOut(imported=len(trades), trades=[t.pk for t in trades])

    return idempotent(request, run)


@router.post(
    "/reference-prices",
    response={200: ImportOut, **PROBLEMS},
    summary="Import reference prices as CSV (trade or risk control; a bad row: 422)",
)
def import_reference_prices(request: HttpRequest, body: ImportIn) -> HttpResponse:
    def run() -> tuple[int, ImportOut]:
        prices = do_import_reference_prices(actor_of(request), body.content, body.filename)
        return 200, ImportOut(imported=len(prices))

    return idempotent(request, run)


@router.get(
    "/reports/unconfirmed",
    response={200: list[UnconfirmedOut], **PROBLEMS},
    summary="Unconfirmed trades by age, oldest first (paged; ?format=csv: all)",
)
def unconfirmed(request: HttpRequest, params: Query[Format], response: HttpResponse) -> Any:
    report = queries.get_unconfirmed(actor_of(request), timezone.localdate())
    return _answer(request, response, report, params, "unconfirmed-trades")


@router.get(
    "/reports/off-market",
    response={200: list[OffMarketOut], **PROBLEMS},
    summary="Off-market trades and who closed them (paged; ?format=csv: all)",
)
def off_market(request: HttpRequest, params: Query[Format], response: HttpResponse) -> Any:
    report = queries.get_off_market(actor_of(request))
    return _answer(request, response, report, params, "off-market-trades")


@router.get(
    "/reports/corrections",
    response={200: list[CorrectionsOut], **PROBLEMS},
    summary="Cancels and rebooks per trader (paged; ?format=csv: all)",
)
def corrections(request: HttpRequest, params: Query[Format], response: HttpResponse) -> Any:
    report = queries.get_corrections(actor_of(request))
    return _answer(request, response, report, params, "trade-corrections")


@router.get(
    "/reports/late",
    response={200: list[LateOut], **PROBLEMS},
    summary="Late trades (paged; ?format=csv: all)",
)
def late(request: HttpRequest, params: Query[Format], response: HttpResponse) -> Any:
    report = queries.get_late(actor_of(request))
    return _answer(request, response, report, params, "late-trades")
