"""Every write of trading and settlement (#17), each one transaction with its audit events.

The pure rules are ``core.trading`` (TRD-1 to TRD-4) and ``core.cooling`` (COOL-1, the
rule credit uses too); here the facts are gathered, the decision applied and recorded.
A refusal is on record (``trading.denied``) before it is raised, and says nothing about
trades the asker may not see. An import with one bad row writes nothing (422, the row
named); a refused row (COOL-1, say) refuses the whole file.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from backoffice.audit.services import do_record_denial, record
from backoffice.base.actor import Actor
from backoffice.core.actors import ActorFacts
from backoffice.core.cooling import cooling_off
from backoffice.core.errors import Denied, DomainError
from backoffice.core.trading import (
    CONFIRM,
    CONTROL,
    InputError,
    MarketCheck,
    Side,
    Terms,
    TradingPolicy,
    check_booking,
    check_close_off_market,
    is_late,
    market_check,
    match_terms,
    parse_confirmations,
    parse_reference_prices,
)
from backoffice.org.cooling import moves_out
from backoffice.org.models import Membership
from backoffice.org.queries import derived_from_live_policy
from backoffice.trading.models import ReferencePrice, Trade

__all__ = [
    "trading_policy",
    "terms_of",
    "do_book_trade",
    "do_confirm_trade",
    "do_import_confirmations",
    "do_import_reference_prices",
    "do_close_off_market",
    "do_rebook",
    "check_rebook",
    "check_rebook_actor",
    "cooling_refusal",
    "refuse",
]


def trading_policy() -> TradingPolicy:
    """The trading section of the live policy (``trading.no_policy`` without one)."""
    policy = derived_from_live_policy("trading", lambda p: p.trading)
    if policy is None:
        raise DomainError("trading.no_policy", "The live policy has no trading section.")
    return policy


def refuse(actor: Actor, denied: Denied, about: str) -> DomainError:
    """Record a refusal in its own transaction; the caller raises what this returns."""
    object_type, _, object_id = about.partition(":")
    do_record_denial(
        "trading.denied",
        actor=actor.person,
        object_type=object_type,
        object_id=object_id,
        reason=f"{denied.code}: {denied.message}",
    )
    return DomainError.from_denied(denied)


def terms_of(trade: Trade) -> Terms:
    return Terms(
        instrument=trade.instrument,
        side=Side(trade.side),
        quantity=trade.quantity,
        price=trade.price,
        trade_date=trade.trade_date,
        value_date=trade.value_date,
        counterparty=trade.counterparty,
    )


def _desk(actor: Actor, day: date) -> Any:
    """The trading desk the trader sits on today (the unit their trades belong to)."""
    seats = Membership.objects.filter(user=actor.user, unit__line="trading").select_related("unit")
    for seat in seats.order_by("-valid_from"):
        if seat.period.contains(day):
            return seat.unit
    return None


def _reference(instrument: str, day: date) -> Decimal | None:
    row = ReferencePrice.objects.filter(instrument=instrument, day=day).first()
    return row.price if row is not None else None


def _checked(policy: TradingPolicy, trade: Trade, reference: Decimal | None) -> None:
    """TRD-3 on one trade: its check against the reference of its trade date."""
    tolerance = policy.tolerance(trade.asset_class)
    trade.reference_price = reference
    trade.market_check = market_check(trade.price, reference, tolerance).value


def _audit_terms(trade: Trade) -> dict[str, Any]:
    return {
        "instrument": trade.instrument,
        "side": trade.side,
        "quantity": str(trade.quantity),
        "price": str(trade.price),
        "counterparty": trade.counterparty,
        "trade_date": trade.trade_date.isoformat(),
        "value_date": trade.value_date.isoformat(),
        "desk": trade.desk.key,
        "late": trade.late,
        "market_check": trade.market_check,
        "reference_price": None if trade.reference_price is None else str(trade.reference_price),
    }


def _new_trade(
    policy: TradingPolicy, terms: Terms, desk: Any, user: Any, replaces: Trade | None = None
) -> Trade:
    instrument = policy.instrument(terms.instrument)
    assert instrument is not None
    now = timezone.localtime()
    trade = Trade(
        instrument=terms.instrument,
        asset_class=instrument.asset_class,
        side=terms.side.value,
        quantity=terms.quantity,
        price=terms.price,
        currency=instrument.currency,
        counterparty=terms.counterparty.strip(),
        trade_date=terms.trade_date,
        value_date=terms.value_date,
        desk=desk,
        booked_by=user,
        booked_at=now,
        late=is_late(now, terms.trade_date, policy.cut_off),
        replaces=replaces,
    )
    _checked(policy, trade, _reference(terms.instrument, terms.trade_date))
    trade.save()
    return trade


def do_book_trade(actor: Actor, terms: Terms) -> Trade:
    """A trader books a trade on their desk; it is checked against the reference price
    (TRD-3) and flagged if late (TRD-4). Its terms never change afterwards."""
    policy = trading_policy()
    denied = check_booking(policy, terms, actor.today, actor.permissions)
    desk = _desk(actor, actor.today) if denied is None else None
    if denied is None and desk is None:
        denied = Denied("trading.forbidden", "You sit on no trading desk today.")
    if denied is not None:
        raise refuse(actor, denied, "trade:new")
    with transaction.atomic():
        trade = _new_trade(policy, terms, desk, actor.user)
        record(
            "trading.trade.booked",
            actor=actor.person,
            object_type="trade",
            object_id=trade.pk,
            after=_audit_terms(trade),
            reason="late booking (TRD-4)" if trade.late else "",
        )
    return trade


def _find(trade_id: int, *, lock: bool = False) -> Trade:
    rows = Trade.objects.select_related("desk", "booked_by").filter(pk=trade_id)
    trade = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if trade is None:
        raise DomainError("trading.not_found", f"There is no trade {trade_id}.")
    return trade


def cooling_refusal(
    person: str, user_pk: int, trade: Trade, policy: TradingPolicy, today: date
) -> Denied | None:
    """COOL-1 for one trade: the person's moves out of trading (``org.cooling``, as for
    credit), the trade handled if they booked it before leaving, and of the former unit
    if its desk is the one they left (or under it); judged by ``core.cooling``."""
    moves = moves_out(
        person,
        policy.cooling_off,
        today,
        handled=lambda left_on: trade.booked_by_id == user_pk and trade.booked_at.date() < left_on,
        in_former=lambda units: trade.desk_id in units,
    )
    return cooling_off(
        policy.cooling_off,
        moves,
        today,
        handled="trades you booked",
        former="trades of your former desk",
    )


def _may_confirm(actor: Actor, trade: Trade, policy: TradingPolicy) -> Denied | None:
    """TRD-2 and COOL-1: settlement confirms, never the booker, not a former desk's trades."""
    if CONFIRM not in actor.permissions:
        return Denied(
            "trading.forbidden",
            "Only settlement sets a trade's confirmation and match status (TRD-2).",
        )
    if trade.booked_by_id == actor.user.pk:
        return Denied("sod.self_approval", "You booked this trade; someone else confirms it.")
    denied = cooling_refusal(actor.person, actor.user.pk, trade, policy, actor.today)
    if denied is not None:
        return denied
    if trade.status == Trade.Status.CANCELLED:
        return Denied("trading.cancelled", f"Trade {trade.pk} is cancelled.")
    if trade.confirmation == Trade.Confirmation.CONFIRMED:
        return Denied("trading.already_confirmed", f"Trade {trade.pk} is already confirmed.")
    return None


def _match(actor: Actor, trade: Trade, theirs: Terms, source: str) -> Trade:
    differ = match_terms(terms_of(trade), theirs)
    trade.match = Trade.Match.MISMATCHED if differ else Trade.Match.MATCHED
    trade.mismatched_fields = ",".join(differ)
    if not differ:
        trade.confirmation = Trade.Confirmation.CONFIRMED
        trade.confirmed_by = actor.user
        trade.confirmed_at = timezone.now()
    trade.save(
        update_fields=[
            "match",
            "mismatched_fields",
            "confirmation",
            "confirmed_by",
            "confirmed_at",
        ]
    )
    record(
        "trading.trade.confirmed" if not differ else "trading.trade.mismatched",
        actor=actor.person,
        object_type="trade",
        object_id=trade.pk,
        after={"match": trade.match, "confirmation": trade.confirmation, "differ": list(differ)},
        reason=source,
    )
    return trade


def do_confirm_trade(actor: Actor, trade_id: int, theirs: Terms) -> Trade:
    """TRD-2: settlement matches the trade against the counterparty's confirmation; matched,
    it is confirmed; a difference leaves it unconfirmed as ``mismatched`` with the fields."""
    policy = trading_policy()
    if CONFIRM not in actor.permissions:
        denied = Denied(
            "trading.forbidden",
            "Only settlement sets a trade's confirmation and match status (TRD-2).",
        )
        raise refuse(actor, denied, f"trade:{trade_id}")
    with transaction.atomic():
        trade = _find(trade_id, lock=True)
        refused = _may_confirm(actor, trade, policy)
        if refused is None:
            return _match(actor, trade, theirs, "counterparty confirmation")
    raise refuse(actor, refused, f"trade:{trade_id}")


def _bad_input(error: InputError) -> DomainError:
    first = error.problems[0]
    return DomainError(
        "input.invalid",
        f"Nothing was imported: {first}",
        errors=[p.as_error() for p in error.problems],
    )


def do_import_confirmations(actor: Actor, text: str, name: str) -> list[Trade]:
    """TRD-2 for a file of counterparty confirmations: every row matched, or none.

    A bad row (unknown trade, a field that is no date…) is ``input.invalid`` naming the
    file, line and field; a row the importer may not confirm (COOL-1, a cancelled trade)
    refuses the file with that row's reason. Either way nothing is written.
    """
    policy = trading_policy()
    if CONFIRM not in actor.permissions:
        denied = Denied(
            "trading.forbidden",
            "Only settlement imports counterparty confirmations (TRD-2).",
        )
        raise refuse(actor, denied, f"import:{name[:100]}")
    try:
        rows = parse_confirmations(text, name, {i.id for i in policy.instruments})
    except InputError as error:
        raise _bad_input(error) from None
    refused: tuple[Denied, int] | None = None
    with transaction.atomic():
        trades = {
            t.pk: t
            for t in Trade.objects.select_for_update(of=("self",))
            .select_related("desk")
            .filter(pk__in=[r.trade for r in rows])
        }
        for row in rows:
            if row.trade not in trades:
                raise DomainError(
                    "input.invalid",
                    f"Nothing was imported: {name}:{row.line}: trade: "
                    f"there is no trade {row.trade}",
                    errors=[
                        {"file": name, "line": row.line, "field": "trade", "msg": "no such trade"}
                    ],
                )
            row_denied = _may_confirm(actor, trades[row.trade], policy)
            if row_denied is not None:
                refused = (row_denied, row.line)
                break
        if refused is None:
            return [_match(actor, trades[r.trade], r.terms, f"{name}:{r.line}") for r in rows]
    denied, line = refused
    raise refuse(
        actor,
        Denied(denied.code, f"{name}:{line}: {denied.message} Nothing was imported."),
        f"import:{name[:100]}",
    )


def do_import_reference_prices(actor: Actor, text: str, name: str) -> list[ReferencePrice]:
    """TRD-3: control imports the day's reference prices; every booked trade of that
    instrument and day not yet checked is checked now. A bad row: nothing is written."""
    policy = trading_policy()
    if CONTROL not in actor.permissions:
        denied = Denied(
            "trading.forbidden",
            "Reference prices come from trade control or risk control, not from the desks (TRD-3).",
        )
        raise refuse(actor, denied, f"import:{name[:100]}")
    try:
        rows = parse_reference_prices(text, name, {i.id for i in policy.instruments})
    except InputError as error:
        raise _bad_input(error) from None
    now = timezone.now()
    with transaction.atomic():
        for row in rows:
            if ReferencePrice.objects.filter(instrument=row.instrument, day=row.day).exists():
                raise DomainError(
                    "input.invalid",
                    f"Nothing was imported: {name}:{row.line}: date: {row.instrument} on "
                    f"{row.day} has a reference price already",
                    errors=[
                        {"file": name, "line": row.line, "field": "date", "msg": "already imported"}
                    ],
                )
        prices = ReferencePrice.objects.bulk_create(
            [
                ReferencePrice(
                    instrument=r.instrument,
                    day=r.day,
                    price=r.price,
                    imported_by=actor.person,
                    imported_at=now,
                    source=name[:200],
                )
                for r in rows
            ]
        )
        record(
            "trading.reference_prices.imported",
            actor=actor.person,
            object_type="import",
            object_id=name[:100],
            after={"rows": len(rows)},
        )
        for row in rows:
            _check_waiting(policy, actor.person, row.instrument, row.day, row.price)
    return prices


def _check_waiting(
    policy: TradingPolicy, who: str, instrument: str, day: date, reference: Decimal
) -> None:
    waiting = Trade.objects.select_for_update(of=("self",)).filter(
        instrument=instrument,
        trade_date=day,
        status=Trade.Status.BOOKED,
        market_check=MarketCheck.UNCHECKED.value,
    )
    for trade in waiting:
        _checked(policy, trade, reference)
        trade.save(update_fields=["reference_price", "market_check"])
        if trade.market_check == MarketCheck.OFF_MARKET.value:
            record(
                "trading.trade.off_market",
                actor=who,
                object_type="trade",
                object_id=trade.pk,
                after={"price": str(trade.price), "reference_price": str(reference)},
                reason="TRD-3: outside the asset class's tolerance",
            )


def do_close_off_market(actor: Actor, trade_id: int, reason: str) -> Trade:
    """TRD-3: trade control or risk control closes an off-market trade, with a reason."""
    if CONTROL not in actor.permissions:
        denied = check_close_off_market("", MarketCheck.OFF_MARKET, actor.permissions, reason)
        assert denied is not None
        raise refuse(actor, denied, f"trade:{trade_id}")
    with transaction.atomic():
        trade = _find(trade_id, lock=True)
        check = MarketCheck(trade.market_check)
        denied = check_close_off_market(trade.status, check, actor.permissions, reason)
        if denied is None and trade.booked_by_id == actor.user.pk:
            denied = Denied("sod.self_approval", "You booked this trade; someone else closes it.")
        if denied is None:
            trade.market_check = MarketCheck.CLOSED.value
            trade.closed_by = actor.user
            trade.closed_at = timezone.now()
            trade.close_reason = reason.strip()
            trade.save(update_fields=["market_check", "closed_by", "closed_at", "close_reason"])
            record(
                "trading.trade.off_market_closed",
                actor=actor.person,
                object_type="trade",
                object_id=trade.pk,
                before={"market_check": MarketCheck.OFF_MARKET.value},
                after={"market_check": trade.market_check},
                reason=trade.close_reason,
            )
            return trade
    raise refuse(actor, denied, f"trade:{trade_id}")


# -- TRD-4: cancel and rebook, through a released case ------------------------------------


def corrected_terms(trade: Trade, payload: dict[str, Any]) -> Terms:
    """The terms of the rebooked trade: the case's corrections over the old trade's."""
    return Terms(
        instrument=trade.instrument,
        side=Side(trade.side),
        quantity=Decimal(str(payload["quantity"])),
        price=Decimal(str(payload["price"])),
        trade_date=trade.trade_date,
        value_date=date.fromisoformat(str(payload["value_date"])),
        counterparty=str(payload["counterparty"]),
    )


def check_rebook(payload: dict[str, Any]) -> Denied | None:
    """At submit and release: the trade is booked (not cancelled) and the terms hold."""
    trade_id = payload.get("trade")
    trade = Trade.objects.filter(pk=trade_id).first() if isinstance(trade_id, int) else None
    if trade is None:
        return Denied("trading.not_found", f"There is no trade {trade_id}.")
    if trade.status == Trade.Status.CANCELLED:
        return Denied("trading.cancelled", f"Trade {trade.pk} is cancelled already.")
    try:
        terms = corrected_terms(trade, payload)
    except (KeyError, ValueError, ArithmeticError):
        return Denied("trading.invalid", "Give the corrected quantity, price and value date.")
    if terms.quantity <= 0 or terms.price <= 0:
        return Denied("trading.invalid", "Quantity and price must be positive.")
    if terms.value_date < terms.trade_date:
        return Denied("trading.invalid", "The value date is on or after the trade date.")
    if terms == terms_of(trade):
        return Denied("trading.invalid", "The correction changes nothing.")
    return None


def check_rebook_actor(payload: dict[str, Any], facts: ActorFacts) -> Denied | None:
    """Who may ask for and release a correction: the trader, for a trade of their own desk;
    settlement, not for a trade it booked nor, within COOL-1, one of a desk it left."""
    trade_id = payload.get("trade")
    trade = (
        Trade.objects.select_related("desk").filter(pk=trade_id).first()
        if isinstance(trade_id, int)
        else None
    )
    if trade is None:
        return None  # ``check_rebook`` says so
    if CONFIRM in facts.permissions:
        user = get_user_model().objects.filter(username=facts.person).first()
        if user is None:
            return None
        if trade.booked_by_id == user.pk:
            return Denied("sod.self_approval", "You booked this trade; someone else releases it.")
        return cooling_refusal(facts.person, user.pk, trade, trading_policy(), timezone.localdate())
    if trade.desk.key not in facts.units:
        return Denied("trading.forbidden", "You correct only trades of your own desk.")
    return None


def do_rebook(case: Any, *, actor: str) -> Trade:
    """The released correction: the old trade is cancelled, the corrected one booked by
    the trader who asked (its own market check and late flag), both on record."""
    policy = trading_policy()
    payload = dict(case.payload)
    trade = _find(int(payload["trade"]), lock=True)
    if trade.status == Trade.Status.CANCELLED:
        raise DomainError("trading.cancelled", f"Trade {trade.pk} is cancelled already.")
    trade.status = Trade.Status.CANCELLED
    trade.cancelled_by_case = case
    trade.cancelled_at = timezone.now()
    trade.save(update_fields=["status", "cancelled_by_case", "cancelled_at"])
    rebooked = _new_trade(policy, corrected_terms(trade, payload), trade.desk, case.maker, trade)
    record(
        "trading.trade.cancelled",
        actor=actor,
        object_type="trade",
        object_id=trade.pk,
        after={"case": case.pk, "replaced_by": rebooked.pk},
        reason=str(payload.get("reason") or ""),
    )
    record(
        "trading.trade.rebooked",
        actor=actor,
        object_type="trade",
        object_id=rebooked.pk,
        after={**_audit_terms(rebooked), "replaces": trade.pk, "case": case.pk},
        reason=str(payload.get("reason") or ""),
    )
    return rebooked
