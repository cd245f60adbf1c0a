"""Personal account dealing (#17): employees' own orders, pre-cleared when placed
(``core.pad.preclear``), the four-eyes clearance of one blocked order (PAD-3), the quarterly
attestation and its report.

Every order is on record with its decision; a watch-list hit alerts compliance in the audit
trail (``walls.watch_list.hit``) and is never shown to the employee (CW-4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from backoffice.audit.services import record
from backoffice.base.actor import Actor
from backoffice.core.errors import Denied, DomainError
from backoffice.core.pad import (
    Order,
    PastOrder,
    Recommendation,
    Side,
    preclear,
    quarter_bounds,
    quarter_of,
)
from backoffice.walls.models import ListEntry, PadAttestation, PadOrder
from backoffice.walls.queries import access_walls_admin, get_walls, listed_issuers
from backoffice.walls.research import PUBLISH_EFFECT
from backoffice.walls.services import get_issuer

__all__ = [
    "CLEARANCE_PROCESS",
    "do_place_order",
    "check_clearance",
    "do_clear_order",
    "do_request_clearance",
    "do_attest",
    "get_orders",
    "attestation_report",
    "ATTESTATION_ORDER",
]

User = get_user_model()

#: the process that clears one blocked order (four eyes, PAD-3)
CLEARANCE_PROCESS = "pad-clearance"
#: the attestation report's order (per employee; the pk makes it unique)
ATTESTATION_ORDER = ("username", "pk")


def _recommendations(user: Any, issuer: str) -> list[Recommendation]:
    """PAD-5: the person's own notes on the issuer: released ones are their current view,
    submitted or draft ones are not published yet."""
    from backoffice.cases.models import Case  # cases build on walls' guards

    rows = Case.objects.filter(
        maker=user,
        process__definition__effect=PUBLISH_EFFECT,
        payload__issuer=issuer,
        status__in=("draft", "submitted", "released"),
    ).values_list("status", "payload", "created")
    return [
        Recommendation(issuer, str(p.get("rating") or ""), status == "released", at)
        for status, p, at in rows
    ]


def _history(user: Any, issuer: str) -> list[PastOrder]:
    rows = PadOrder.objects.filter(
        employee=user,
        issuer__key=issuer,
        status__in=(PadOrder.Status.EXECUTED, PadOrder.Status.CLEARED),
    ).values_list("side", "placed_at", "cleared_at")
    return [PastOrder(issuer, Side(side), cleared or placed) for side, placed, cleared in rows]


def do_place_order(actor: Actor, *, issuer: str, side: str, quantity: int) -> PadOrder:
    """Pre-clear and place an employee's own order: executed, or blocked with the reason
    (PAD-1, PAD-4, PAD-5); a watch-list hit is executed and alerts compliance (PAD-2).
    Everyone with a login is an employee with a personal account, auditors included."""
    if side not in Side.__members__.values() or quantity < 1:
        raise DomainError("pad.invalid", "An order is to buy or sell at least one share.")
    walls = get_walls()
    with transaction.atomic():
        target = get_issuer(issuer)
        list(User.objects.select_for_update().filter(pk=actor.user.pk).values_list("pk"))
        now = timezone.now()
        decision = preclear(
            Order(target.key, Side(side), now),
            restricted=listed_issuers(ListEntry.Kind.RESTRICTED),
            watched=listed_issuers(ListEntry.Kind.WATCH),
            history=_history(actor.user, target.key),
            research=_recommendations(actor.user, target.key),
            holding_days=walls.holding_days,
            issuer_name=target.name,
        )
        refusal = decision.refusal
        order = PadOrder.objects.create(
            employee=actor.user,
            issuer=target,
            side=side,
            quantity=quantity,
            placed_at=now,
            status=PadOrder.Status.EXECUTED if decision.executed else PadOrder.Status.BLOCKED,
            code=refusal.code if refusal else "",
            message=refusal.message[:500] if refusal else "",
            alerted=decision.alert,
        )
        record(
            f"pad.order.{order.status}",
            actor=actor.person,
            object_type="pad_order",
            object_id=order.pk,
            after={
                "issuer": target.key,
                "side": side,
                "quantity": quantity,
                "status": order.status,
                "code": order.code,
            },
        )
        if decision.alert:
            record(
                "walls.watch_list.hit",
                actor=actor.person,
                object_type="issuer",
                object_id=target.key,
                after={"pad_order": order.pk, "employee": actor.person, "side": side},
                reason="PAD-2: a personal order in a watch-listed issuer",
            )
    return order


def _blocked_order(order_id: int) -> PadOrder | Denied:
    order = PadOrder.objects.select_related("issuer", "employee").filter(pk=order_id).first()
    if order is None:
        return Denied("pad.not_found", f"There is no personal order {order_id}.")
    if order.status != PadOrder.Status.BLOCKED:
        return Denied("pad.not_blocked", f"Order {order_id} is {order.status}, not blocked.")
    return order


def check_clearance(order_id: int) -> Denied | None:
    found = _blocked_order(order_id)
    return found if isinstance(found, Denied) else None


def do_request_clearance(order_id: int, *, reason: str, actor: Actor) -> int:
    """Compliance asks to clear one blocked order; a second officer releases (PAD-3)."""
    from backoffice.cases.services import do_start_case  # cases build on walls' guards

    access_walls_admin(actor, "personal orders")
    payload = {"order": order_id, "reason": reason}
    case = do_start_case(actor, CLEARANCE_PROCESS, payload, submit=True).raise_if_denied()
    return int(case.pk)


def do_clear_order(case: Any, *, actor: str) -> PadOrder:
    """A released clearance lets the one order through; every list stays as it is."""
    order = PadOrder.objects.select_for_update().get(pk=int(case.payload["order"]))
    if order.status != PadOrder.Status.BLOCKED:  # checked at release, in this transaction
        raise DomainError("pad.not_blocked", f"Order {order.pk} is not blocked.")
    now = timezone.now()
    order.status, order.clearance, order.cleared_by, order.cleared_at = (
        PadOrder.Status.CLEARED,
        case,
        actor,
        now,
    )
    order.save(update_fields=["status", "clearance", "cleared_by", "cleared_at", "last_updated"])
    record(
        "pad.order.cleared",
        actor=actor,
        object_type="pad_order",
        object_id=order.pk,
        before={"status": PadOrder.Status.BLOCKED, "code": order.code},
        after={"status": order.status, "case": case.pk, "requested_by": case.maker.username},
        reason=str(case.payload["reason"]),
    )
    return order


def get_orders(actor: Actor, *, everyone: bool = False) -> QuerySet[PadOrder]:
    """The actor's own orders; with ``everyone``, every employee's (compliance and audit)."""
    rows = PadOrder.objects.select_related("issuer", "employee")
    if everyone:
        access_walls_admin(actor, "personal orders", read_only=True)
        return rows
    return rows.filter(employee=actor.user)


def do_attest(actor: Actor, year: int, quarter: int) -> PadAttestation:
    """The employee confirms their personal orders of a quarter that has begun are all
    listed; once per quarter, on record."""
    try:
        start, end = quarter_bounds(year, quarter)
    except ValueError as bad:
        raise DomainError("pad.invalid", "A quarter is 1 to 4.") from bad
    now = timezone.now()
    if start > now:
        raise DomainError("pad.invalid", "A quarter is attested once it has begun.")
    with transaction.atomic():
        if PadAttestation.objects.filter(employee=actor.user, year=year, quarter=quarter):
            raise DomainError("pad.invalid", f"{year}-Q{quarter} is attested already.")
        orders = PadOrder.objects.filter(
            employee=actor.user, placed_at__gte=start, placed_at__lt=end
        ).count()
        done = PadAttestation.objects.create(
            employee=actor.user, year=year, quarter=quarter, attested_at=now, orders=orders
        )
        record(
            "pad.attested",
            actor=actor.person,
            object_type="person",
            object_id=actor.person,
            after={"year": year, "quarter": quarter, "orders": orders},
        )
    return done


def attestation_report(year: int, quarter: int) -> QuerySet[Any]:
    """Per employee: their orders in the quarter by outcome and their attestation (if any).

    Every active employee is a row: a missing attestation is what compliance chases."""
    start, end = quarter_bounds(year, quarter)
    within = Q(pad_orders__placed_at__gte=start, pad_orders__placed_at__lt=end)
    status = "pad_orders__status"
    return (
        User.objects.filter(is_active=True)
        .annotate(
            orders=Count("pad_orders", filter=within, distinct=True),
            executed=Count("pad_orders", filter=within & Q(**{status: "executed"}), distinct=True),
            blocked=Count("pad_orders", filter=within & Q(**{status: "blocked"}), distinct=True),
            cleared=Count("pad_orders", filter=within & Q(**{status: "cleared"}), distinct=True),
            alerts=Count("pad_orders", filter=within & Q(pad_orders__alerted=True), distinct=True),
            attested_at=Max(
                "pad_attestations__attested_at",
                filter=Q(pad_attestations__year=year, pad_attestations__quarter=quarter),
            ),
        )
        .order_by(*ATTESTATION_ORDER)
    )


def current_quarter(at: datetime | None = None) -> tuple[int, int]:
    return quarter_of((at or timezone.now()).date())
