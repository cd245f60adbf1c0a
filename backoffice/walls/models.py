"""Chinese walls as persisted (#8): issuers in conflict classes, deal projects and their
insiders, watch and restricted list entries with their history, wall crossings, each
person's Brewer–Nash history, and issuer documents.

Areas and barriers are not rows: they live in the live policy (``queries.get_walls``).
Rows change only through ``services`` (and the policy loader for issuers and classes),
each change with its audit event. Nothing is deleted: entries, memberships and crossings
end (``until``/``ended_at``), histories are reset, so every past state stays on record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from typing_extensions import override

from backoffice.base.models import TimeStamped
from backoffice.core.walls import Kind

__all__ = [
    "ConflictClass",
    "Issuer",
    "DealProject",
    "ProjectMember",
    "WallCrossing",
    "ListEntry",
    "AccessRecord",
    "IssuerDocument",
    "FactCheck",
    "PadOrder",
    "PadAttestation",
]


class ConflictClass(TimeStamped):
    """BN-1: competitors (an industry). Loaded from the policy's walls section."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "conflict classes"

    @override
    def __str__(self) -> str:
        return self.name


class Issuer(TimeStamped):
    """A company whose securities the bank researches, trades or brings to market."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    conflict_class = models.ForeignKey(
        ConflictClass, on_delete=models.PROTECT, related_name="issuers"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    @override
    def __str__(self) -> str:
        return self.name


class DealProject(TimeStamped):
    """An underwriting or advisory mandate for an issuer: its members are insiders.

    Opened by a released ``deal-mandate`` case (issuer on the watch list, CW-4); announced
    by compliance when the mandate becomes public (issuer on the restricted list, CW-3);
    closed at the end.
    """

    class Status(models.TextChoices):
        CONFIDENTIAL = "confidential", "confidential"
        PUBLIC = "public", "public"
        CLOSED = "closed", "closed"

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="projects")
    area = models.CharField(max_length=64)
    mandate = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIDENTIAL)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deal_projects_led"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    announced_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    @override
    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class ProjectMember(TimeStamped):
    """A deal team member inside the project's area: an insider from ``since`` to ``until``."""

    project = models.ForeignKey(DealProject, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deal_memberships"
    )
    since = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    added_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["project", "since"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"],
                condition=Q(until__isnull=True),
                name="%(app_label)s_%(class)s_one_active",
                violation_error_message="The person is already a member of this project.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.user} in {self.project}"


class WallCrossing(TimeStamped):
    """CW-2: ``user`` brought over the wall for ``project`` from ``valid_from`` to ``valid_to``.

    Created only by a released ``wall-crossing`` case: requested by one person, approved
    by compliance (another). It ends by itself at ``valid_to`` (checked at every read);
    ``ended_at`` records when the end was written down (``walls expire``) or compliance
    ended it early.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wall_crossings"
    )
    project = models.ForeignKey(DealProject, on_delete=models.PROTECT, related_name="crossings")
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()
    reason = models.TextField()
    requested_by = models.CharField(max_length=150)
    approved_by = models.CharField(max_length=150)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=F("valid_from")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="A wall crossing must end after it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(approved_by=F("requested_by")),
                name="%(app_label)s_%(class)s_four_eyes",
                violation_error_message="A wall crossing is approved by someone else (CW-2).",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.user} over the wall for {self.project}"


class ListEntry(TimeStamped):
    """An issuer on the watch list (CW-4, compliance only) or the restricted list (CW-3)."""

    class Kind(models.TextChoices):
        WATCH = "watch", "watch list"
        RESTRICTED = "restricted", "restricted list"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="list_entries")
    project = models.ForeignKey(
        DealProject, null=True, blank=True, on_delete=models.PROTECT, related_name="list_entries"
    )
    since = models.DateTimeField()
    until = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    added_by = models.CharField(max_length=150)
    removed_by = models.CharField(max_length=150, blank=True)
    removal_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-since"]
        verbose_name_plural = "list entries"
        constraints = [
            # one active entry per list, issuer and project (two projects on one issuer keep
            # it listed until both are done); the services refuse a second manual entry
            models.UniqueConstraint(
                fields=["kind", "issuer", "project"],
                condition=Q(until__isnull=True),
                name="%(app_label)s_%(class)s_one_active",
                violation_error_message="The issuer is on this list for this project already.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.issuer} on the {self.get_kind_display()}"


class AccessRecord(TimeStamped):
    """BN-1: ``user`` read ``issuer``'s confidential data (first at ``first_at``).

    The active records of a person are their Brewer–Nash history; only compliance resets
    them (``reset_at``), and the reset is audited.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wall_history"
    )
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="+")
    first_at = models.DateTimeField()
    first_object = models.CharField(max_length=200)
    reset_at = models.DateTimeField(null=True, blank=True)
    reset_by = models.CharField(max_length=150, blank=True)
    reset_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["user", "first_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "issuer"],
                condition=Q(reset_at__isnull=True),
                name="%(app_label)s_%(class)s_once",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.user} read {self.issuer}"


class IssuerDocument(TimeStamped):
    """A document about an issuer, held by an information area; read only through the wall."""

    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="documents")
    area = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=[(k.value, k.value) for k in Kind])
    title = models.CharField(max_length=200)
    body = models.TextField()
    author = models.CharField(max_length=150)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created"]

    @override
    def __str__(self) -> str:
        return self.title


class FactCheck(TimeStamped):
    """RES-2: the version of a research draft sent to its issuer for a fact check.

    The body is what the system produced from the draft (``core.research.fact_check_version``):
    headline and text, never rating, price target or valuation.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="fact_checks")
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="+")
    headline = models.CharField(max_length=200)
    body = models.TextField()
    sent_by = models.CharField(max_length=150)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-sent_at", "-pk"]

    @override
    def __str__(self) -> str:
        return f"fact check of case {self.case_id}"


class PadOrder(TimeStamped):
    """An employee's own order, pre-cleared when placed (PAD-1 to PAD-5): executed or blocked;
    a blocked one is cleared only by a released ``pad-clearance`` case (PAD-3)."""

    class Status(models.TextChoices):
        EXECUTED = "executed", "executed"
        BLOCKED = "blocked", "blocked"
        CLEARED = "cleared", "cleared"

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pad_orders"
    )
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=4, choices=[("buy", "buy"), ("sell", "sell")])
    quantity = models.PositiveIntegerField()
    placed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices)
    code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    #: PAD-2: a watch-list hit compliance was alerted to (never shown to the employee)
    alerted = models.BooleanField(default=False)
    clearance = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cleared_by = models.CharField(max_length=150, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="%(app_label)s_%(class)s_quantity",
                violation_error_message="An order is for at least one share.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.issuer} for {self.employee}"


class PadAttestation(TimeStamped):
    """An employee confirms that their personal orders of a quarter are complete."""

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pad_attestations"
    )
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    attested_at = models.DateTimeField()
    orders = models.PositiveIntegerField()

    class Meta:
        ordering = ["-year", "-quarter", "employee"]
        constraints = [
            models.UniqueConstraint(
                fields=["employee", "year", "quarter"],
                name="%(app_label)s_%(class)s_once",
                violation_error_message="The quarter is attested already.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.employee} {self.year}-Q{self.quarter}"
