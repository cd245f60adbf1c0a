"""COOL-1 across processes, through the database: a trader who moved to settlement, random
move dates and trade dates, confirming trades of their former desk and of another desk.

The moves are read from the memberships by ``org.cooling`` (the code credit votes use) and
judged by ``core.cooling``; the expectation here is written from the rule, not the code.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.access.models import RoleAssignment
from backoffice.base.actor import Actor
from backoffice.base.context import request_scope
from backoffice.core.errors import DomainError
from backoffice.org.models import Membership, Unit
from backoffice.trading.models import Trade
from backoffice.trading.services import do_confirm_trade, terms_of
from tests.trading.conftest import MOVER, TRADER, TRADER_2

PERIOD = 180  # the demo policy's trading.cooling_off.days (strict)


class Rollback(Exception):
    pass


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    moved_days_ago=st.integers(min_value=1, max_value=400),
    trade_days_ago=st.integers(min_value=0, max_value=500),
    desk=st.sampled_from(["equity-desk", "rates-desk"]),
    booked_by_mover=st.booleans(),
)
def test_a_mover_confirms_no_trade_of_the_former_desk_within_the_period(
    demo_bank: Any,
    moved_days_ago: int,
    trade_days_ago: int,
    desk: str,
    booked_by_mover: bool,
) -> None:
    users = get_user_model().objects
    mover = users.get(username=MOVER)
    today = timezone.localdate()
    moved = today - timedelta(days=moved_days_ago)
    trade_date = today - timedelta(days=trade_days_ago)
    # the mover booked only on the desk they left, before leaving
    by_mover = booked_by_mover and desk == "equity-desk" and trade_date < moved
    booker = (
        mover if by_mover else users.get(username=TRADER_2 if desk == "equity-desk" else TRADER)
    )
    barred = moved_days_ago < PERIOD and desk == "equity-desk"  # strict: the whole desk
    expected = "sod.cooling_off" if barred else "confirmed"
    if by_mover:
        expected = "sod.self_approval"  # four eyes: never one's own trade, whenever
    try:
        with transaction.atomic():
            Membership.objects.filter(user=mover, unit__key="equity-desk").update(valid_to=moved)
            Membership.objects.filter(user=mover, unit__key="settlement").update(valid_from=moved)
            RoleAssignment.objects.filter(user=mover, role__key="trader").update(valid_to=moved)
            RoleAssignment.objects.filter(user=mover, role__key="settlement-clerk").update(
                valid_from=moved
            )
            trade = Trade.objects.create(
                instrument="DE0007164600",
                asset_class="equities",
                side="buy",
                quantity=Decimal(100),
                price=Decimal(180),
                currency="EUR",
                counterparty="Nordbank AG",
                trade_date=trade_date,
                value_date=trade_date + timedelta(days=2),
                desk=Unit.objects.get(key=desk),
                booked_by=booker,
                booked_at=timezone.now() - timedelta(days=trade_days_ago),
            )
            theirs = terms_of(trade)
            theirs = theirs.__class__(**{**theirs.__dict__, "side": "sell"})
            with request_scope():
                try:
                    done = do_confirm_trade(Actor(mover), trade.pk, theirs)
                    outcome = done.confirmation
                except DomainError as refused:
                    outcome = refused.code
            raise Rollback
    except Rollback:
        pass
    assert outcome == expected, (
        moved_days_ago,
        trade_days_ago,
        desk,
        by_mover,
    )
