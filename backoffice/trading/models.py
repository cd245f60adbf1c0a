"""Trades as master data of their own (#17), with what settlement and control did to them.

A trade row changes only through ``services``, each change with its audit event: the
trader's terms never change after booking (TRD-4); settlement writes the confirmation and
match status (TRD-2); trade or risk control closes an off-market check (TRD-3); a
released correction case cancels the trade and books its successor. Nothing is deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

from backoffice.core.trading import MarketCheck, Side

__all__ = ["Trade", "ReferencePrice"]


class Trade(models.Model):
    """One trade as the trader booked it, and its settlement and control status."""

    class Status(models.TextChoices):
        BOOKED = "booked"
        CANCELLED = "cancelled"

    class Confirmation(models.TextChoices):
        UNCONFIRMED = "unconfirmed"
        CONFIRMED = "confirmed"

    class Match(models.TextChoices):
        UNMATCHED = "unmatched"
        MATCHED = "matched"
        MISMATCHED = "mismatched"

    instrument = models.CharField(max_length=32)
    asset_class = models.CharField(max_length=64)
    side = models.CharField(max_length=4, choices=[(s.value, s.value) for s in Side])
    quantity = models.DecimalField(max_digits=20, decimal_places=4)
    price = models.DecimalField(max_digits=20, decimal_places=6)
    currency = models.CharField(max_length=3)
    counterparty = models.CharField(max_length=200)
    trade_date = models.DateField()
    value_date = models.DateField()
    desk = models.ForeignKey("org.Unit", on_delete=models.PROTECT, related_name="+")
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField()
    #: TRD-4: booked after the policy's cut-off on the trade date, or later
    late = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOOKED)
    #: TRD-4: the trade this one corrects (cancel and rebook), and the case that did it
    replaces = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by"
    )
    cancelled_by_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # TRD-2: set by settlement only, after matching the counterparty's confirmation
    confirmation = models.CharField(
        max_length=16, choices=Confirmation.choices, default=Confirmation.UNCONFIRMED
    )
    match = models.CharField(max_length=16, choices=Match.choices, default=Match.UNMATCHED)
    mismatched_fields = models.CharField(max_length=200, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # TRD-3: the market-conformity check against the reference price of the trade date
    market_check = models.CharField(
        max_length=16,
        choices=[(c.value, c.value) for c in MarketCheck],
        default=MarketCheck.UNCHECKED.value,
    )
    reference_price = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=2000, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["confirmation", "trade_date", "id"]),
            models.Index(fields=["market_check", "trade_date", "id"]),
            models.Index(fields=["instrument", "trade_date"]),
            models.Index(fields=["late", "trade_date", "id"]),
        ]

    @override
    def __str__(self) -> str:
        return f"trade {self.pk}: {self.side} {self.quantity} {self.instrument} @ {self.price}"


class ReferencePrice(models.Model):
    """TRD-3: the independent price of an instrument on a day, imported by control."""

    instrument = models.CharField(max_length=32)
    day = models.DateField()
    price = models.DecimalField(max_digits=20, decimal_places=6)
    imported_by = models.CharField(max_length=150)
    imported_at = models.DateTimeField()
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instrument", "day"], name="trading_reference_day")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.instrument} {self.day}: {self.price}"
