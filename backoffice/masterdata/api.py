"""#16: master data and the retailer's work lists under /api/v1/masterdata/ (read only).

One page of JSON (``?after=&limit=``, the next page in the ``Link`` header) or, with
``?format=csv``, every row. Thin: ``masterdata.queries`` decides who may read.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from ninja import Query, Router

from backoffice.base.actor import actor_of
from backoffice.base.http import PROBLEMS, csv_download
from backoffice.base.pages import PageIn, answer_page
from backoffice.masterdata import queries

__all__ = ["router"]

router = Router(tags=["master data"])


class Format(PageIn):
    format: Literal["json", "csv", "xlsx"] = "json"
    #: #19: ``column`` or ``-column``, as the page's headers sort it
    sort: str = ""


def _answer(
    request: HttpRequest, response: HttpResponse, table: queries.Table, params: Format, name: str
) -> list[dict[str, Any]] | HttpResponseBase:
    table, _sorted = table.sorted_by(params.sort)

    def csv() -> HttpResponseBase:
        return csv_download(f"{name}.csv", table.columns, table.cells(), params.format)

    return answer_page(
        request,
        response,
        table,
        params.after,
        params.limit,
        csv if params.format != "json" else None,
    )


def _master(kind: str) -> None:
    def handler(
        request: HttpRequest, params: Query[Format], response: HttpResponse
    ) -> list[dict[str, Any]] | HttpResponseBase:
        table = queries.get_master_data(actor_of(request), kind)
        return _answer(request, response, table, params, kind)

    router.get(
        f"/masterdata/{kind}",
        response={200: list[dict[str, Any]], **PROBLEMS},
        summary=f"Master data: {kind} (paged; ?format=csv: all)",
        operation_id=f"masterdata_{kind}",
    )(handler)


def _report(name: str) -> None:
    def handler(
        request: HttpRequest, params: Query[Format], response: HttpResponse
    ) -> list[dict[str, Any]] | HttpResponseBase:
        table = queries.get_report(actor_of(request), name)
        return _answer(request, response, table, params, name)

    router.get(
        f"/masterdata/reports/{name}",
        response={200: list[dict[str, Any]], **PROBLEMS},
        summary=f"Work list: {name} (paged; ?format=csv: all)",
        operation_id=f"masterdata_report_{name.replace('-', '_')}",
    )(handler)


for _kind in queries.MASTER_KINDS:
    _master(_kind)
for _name in queries.REPORTS:
    _report(_name)
