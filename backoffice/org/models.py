"""The organisation as persisted: units on lines, people, memberships and board duties over time.

Rows change only by loading a policy (``services.do_load_policy``), later through a
four-eyes ``policy-change`` case. History is kept: nothing that disappears from a policy is
deleted; memberships and responsibilities get a ``valid_to``, units a ``retired_at``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from typing_extensions import override

from backoffice.base.models import TimeStamped
from backoffice.core.org import Line, MembershipRole, Period

__all__ = ["Unit", "Profile", "Membership", "Responsibility", "PolicyVersion"]


class Unit(TimeStamped):
    """An organisational unit; its ``line`` is what separation rules are about."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    line = models.CharField(max_length=32, choices=[(line.value, line.label) for line in Line])
    explicit_line = models.BooleanField(default=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    description = models.TextField(blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key"]

    @override
    def __str__(self) -> str:
        return self.name


class Profile(TimeStamped):
    """What Backoffice knows of a person beyond the Django user: name and competence limit."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="profile"
    )
    display_name = models.CharField(max_length=200)
    competence_amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    competence_currency = models.CharField(max_length=3, blank=True)
    language = models.CharField(max_length=8, default="en")
    #: #13: who created the login: ``policy``, or ``case:<id>`` (a released user-admin case).
    #: A policy load deactivates only the people it created itself and no longer lists.
    source = models.CharField(max_length=32, default="policy")
    #: #13: ``case:<id>`` while a user-admin case holds the login deactivated: a policy load
    #: that still lists the person does not switch it back on ("" or ``policy`` otherwise).
    deactivated_by = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["user__username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(competence_amount__isnull=True) | ~Q(competence_currency=""),
                name="%(app_label)s_%(class)s_competence_has_currency",
                violation_error_message="A competence limit needs a currency.",
            )
        ]

    @override
    def __str__(self) -> str:
        return self.display_name


class _Dated(TimeStamped):
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True, help_text="First day it no longer holds.")

    class Meta:
        abstract = True

    @property
    def period(self) -> Period:
        return Period(self.valid_from, self.valid_to)


class Membership(_Dated):
    """A person in a unit for a period (history is kept, never deleted)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(
        max_length=16,
        choices=[(r.value, r.value) for r in MembershipRole],
        default=MembershipRole.MEMBER.value,
    )
    exception = models.CharField(
        max_length=600,
        blank=True,
        help_text="ORG-3: why this is an approved, time-boxed deployment across lines.",
    )

    class Meta:
        ordering = ["unit__key", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role", "valid_from"],
                name="%(app_label)s_%(class)s_unique_start",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="A membership cannot end before it starts.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.user} in {self.unit} ({self.period})"


class Responsibility(_Dated):
    """A board member answers for a unit and everything under it (Geschäftsverteilungsplan)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="responsibilities"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="responsibilities")

    class Meta:
        ordering = ["unit__key", "valid_from"]
        verbose_name_plural = "responsibilities"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "valid_from"], name="%(app_label)s_%(class)s_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="A responsibility cannot end before it starts.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.user} for {self.unit} ({self.period})"


class PolicyVersion(models.Model):
    """Every policy ever loaded, verbatim: the organisation at any time can be reconstructed."""

    number = models.PositiveIntegerField(unique=True)
    sha256 = models.CharField(max_length=64)
    file = models.CharField(max_length=500)
    source = models.TextField()
    loaded_at = models.DateTimeField()
    loaded_by = models.CharField(max_length=150)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-number"]

    @override
    def __str__(self) -> str:
        return f"policy v{self.number} ({self.sha256[:12]})"
