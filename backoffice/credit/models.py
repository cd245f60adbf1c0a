"""Borrowers and their groups, the credit policy as loaded, and what credit cases decided.

A credit decision itself is a ``cases.Case`` (process ``credit-decision``) with its events;
``CreditDecision`` is its projection for the registers, written in the same transaction as
the case's events (``engine.CreditEngine.after_persist``). ``Credit`` is an approved credit
as the portfolio knows it: rating, review date, intensive care or workout, provisions.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from typing_extensions import override

from backoffice.base.models import TimeStamped
from backoffice.cases.models import Case
from backoffice.core.credit import CareStage
from backoffice.org.models import Unit

__all__ = [
    "CreditPolicyRecord",
    "BorrowerGroup",
    "Borrower",
    "Relationship",
    "CreditDecision",
    "Credit",
    "Provision",
]


class CreditPolicyRecord(models.Model):
    """The ``credit:`` section of each policy version that changed it (None: no section)."""

    number = models.PositiveIntegerField(unique=True, help_text="The policy version.")
    definition = models.JSONField(null=True)
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]

    @override
    def __str__(self) -> str:
        return f"credit policy of policy v{self.number}"


class BorrowerGroup(TimeStamped):
    """A unit of risk (Kreditnehmereinheit, §19 KWG): its total exposure decides (CR-1)."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    opening_exposure = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        ordering = ["name"]

    @override
    def __str__(self) -> str:
        return self.name


class Borrower(TimeStamped):
    """A borrower, in one group, served by one market unit; ``insider``: §15 KWG (CR-7)."""

    number = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    group = models.ForeignKey(BorrowerGroup, on_delete=models.PROTECT, related_name="borrowers")
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT)
    insider = models.BooleanField(default=False)

    class Meta:
        ordering = ["number"]

    @override
    def __str__(self) -> str:
        return f"{self.name} ({self.number})"


class Relationship(TimeStamped):
    """Who looked after a borrower when (relationship manager): business handled (COOL-1)."""

    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="relationships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["borrower", "valid_from"]

    @override
    def __str__(self) -> str:
        return f"{self.user} for {self.borrower}"


class CreditDecision(TimeStamped):
    """One credit case as the registers show it: exposure, level, votes, outcome, flags."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="credit_decision")
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="decisions")
    group = models.ForeignKey(BorrowerGroup, on_delete=models.PROTECT, related_name="decisions")
    product = models.CharField(max_length=64)
    requested = models.DecimalField(max_digits=20, decimal_places=2)
    currency = models.CharField(max_length=3)
    existing_exposure = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    exposure = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    risk_relevant = models.BooleanField(null=True)
    required_level = models.CharField(max_length=32, blank=True)
    escalation_level = models.CharField(max_length=32, blank=True)
    full_board = models.JSONField(default=list, help_text="CR-7 reasons")
    status = models.CharField(max_length=16, db_index=True)
    decided_at = models.DateTimeField(null=True, db_index=True)
    votes = models.JSONField(default=list)
    rating = models.CharField(max_length=8, blank=True, help_text="binding rating (PROC-4)")
    deviating_decision = models.BooleanField(default=False)
    back_office_board_decision = models.BooleanField(default=False)

    class Meta:
        ordering = ["case_id"]

    @override
    def __str__(self) -> str:
        return f"credit decision of case {self.case_id}"

    @property
    def flags(self) -> list[str]:
        return [
            name
            for name, on in (
                ("deviating_decision", self.deviating_decision),
                ("back_office_board_decision", self.back_office_board_decision),
            )
            if on
        ]


class Credit(TimeStamped):
    """An approved credit: binding rating, annual review (PROC-5), care stage (PROC-2)."""

    decision = models.OneToOneField(CreditDecision, on_delete=models.PROTECT, related_name="credit")
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="credits")
    group = models.ForeignKey(BorrowerGroup, on_delete=models.PROTECT, related_name="credits")
    product = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=20, decimal_places=2)
    currency = models.CharField(max_length=3)
    rating = models.CharField(max_length=8, blank=True)
    approved_on = models.DateField()
    last_review = models.DateField()
    review_due = models.DateField(db_index=True)
    stage = models.CharField(
        max_length=16,
        choices=[(s.value, s.value) for s in CareStage],
        default=CareStage.NORMAL.value,
    )
    case_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    days_past_due = models.PositiveIntegerField(default=0)
    forborne = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]

    @override
    def __str__(self) -> str:
        return f"credit {self.pk} to {self.borrower}"


class Provision(TimeStamped):
    """A risk provision (BTO 1.2.6): proposed by one person, approved by another (PROC-3)."""

    credit = models.ForeignKey(Credit, on_delete=models.PROTECT, related_name="provisions")
    amount = models.DecimalField(max_digits=20, decimal_places=2)
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    proposed_by = models.CharField(max_length=150)
    approved_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(approved_by=models.F("proposed_by")),
                name="%(app_label)s_%(class)s_four_eyes",
                violation_error_message="A provision is approved by another than its proposer.",
            )
        ]

    @override
    def __str__(self) -> str:
        return f"provision {self.pk} on credit {self.credit_id}"
