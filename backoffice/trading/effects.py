"""``trading.rebook``: a released trade-correction case cancels the trade and rebooks it
(TRD-4). ``check`` runs at submit and at release: a trade cancelled meanwhile stops it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backoffice.base.effects import EffectProblem
from backoffice.core.actors import ActorFacts
from backoffice.core.errors import Denied
from backoffice.trading.models import Trade
from backoffice.trading.services import check_rebook, check_rebook_actor, do_rebook

__all__ = ["Rebook"]


class Rebook:
    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        denied = check_rebook(dict(payload))
        if denied is None:
            return None
        return EffectProblem(
            denied.code, denied.message, [{"field": "trade", "message": denied.message}]
        )

    def check_actor(self, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        return check_rebook_actor(dict(payload), facts)

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        trade = Trade.objects.filter(pk=payload.get("trade")).first()
        before = (
            {
                "quantity": str(trade.quantity),
                "price": str(trade.price),
                "value_date": trade.value_date.isoformat(),
                "counterparty": trade.counterparty,
            }
            if trade is not None
            else {}
        )
        return {
            "kind": "trade-correction",
            "trade": payload.get("trade"),
            "before": before,
            "after": {
                k: payload.get(k) for k in ("quantity", "price", "value_date", "counterparty")
            },
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        rebooked = do_rebook(case, actor=actor)
        return {"cancelled": rebooked.replaces_id, "rebooked": rebooked.pk}
