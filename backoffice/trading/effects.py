"""``trading.rebook``: a released trade-correction case cancels the trade and rebooks it
(TRD-4). ``check`` runs at submit and at release: a trade cancelled meanwhile stops it."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
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
        """Each corrected term as "booked → corrected" (the case page lists them)."""
        trade_id = payload.get("trade")
        trade = Trade.objects.filter(pk=trade_id).first() if isinstance(trade_id, int) else None
        shown: dict[str, Any] = {"kind": "trade-correction", "trade": trade_id}
        if trade is None:
            return shown
        booked = {
            "quantity": trade.quantity.normalize(),
            "price": trade.price.normalize(),
            "value_date": trade.value_date.isoformat(),
            "counterparty": trade.counterparty,
        }
        for name, was in booked.items():
            was_text = f"{was:f}" if isinstance(was, Decimal) else str(was)
            shown[name] = f"{was_text} → {payload.get(name)}"
        return shown

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        rebooked = do_rebook(case, actor=actor)
        return {"cancelled": rebooked.replaces_id, "rebooked": rebooked.pk}
