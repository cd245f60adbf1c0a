"""Roles and who holds them, over time. Grants change only through audited services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from typing_extensions import override

from backoffice.base.models import TimeStamped
from backoffice.core.org import Period

__all__ = [
    "Role",
    "RoleAssignment",
    "Mitigation",
    "EmergencySession",
    "ReviewCampaign",
    "ReviewItem",
]


class Role(TimeStamped):
    """A role grants permissions and may contain other roles (hierarchical RBAC)."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    permissions = models.JSONField(default=list, help_text="Permission names this role grants.")
    contains = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="+")
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key"]

    @override
    def __str__(self) -> str:
        return self.name


class RoleAssignment(TimeStamped):
    """A person holds a role from ``valid_from`` until ``valid_to`` (exclusive).

    ``source`` says how the grant came about: the bootstrap policy, or a four-eyes
    ``role-grant`` case (IAM-1: requester, approver and beneficiary differ).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    granted_by = models.CharField(max_length=150, blank=True)
    approved_by = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=32, default="policy")

    class Meta:
        ordering = ["user__username", "role__key", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "valid_from"], name="%(app_label)s_%(class)s_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="A role assignment cannot end before it starts.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.user} holds {self.role} ({self.period})"

    @property
    def period(self) -> Period:
        return Period(self.valid_from, self.valid_to)


class Mitigation(TimeStamped):
    """A compensating control that lets one person hold one access risk until ``valid_until``.

    IAM-3 / SOD-1: it names the control, its owner and who monitors it, and it expires; an
    expired mitigation turns the violation back on. Created and extended only by a released
    four-eyes ``mitigation`` case (``case`` is the latest one).
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="mitigations"
    )
    risk = models.CharField(max_length=64)
    control = models.CharField(max_length=64, help_text="The control's id in the control library.")
    description = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    monitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateField()
    valid_until = models.DateField(help_text="The last day the mitigation holds.")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["valid_until", "person__username", "risk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "risk", "control"], name="%(app_label)s_%(class)s_unique"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="A mitigation cannot end before it starts.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.control}: {self.person} may hold {self.risk} until {self.valid_until}"

    def as_record(self) -> dict[str, Any]:
        """What the audit trail and the report say about it."""
        return {
            "person": self.person.username,
            "risk": self.risk,
            "control": self.control,
            "description": self.description,
            "owner": self.owner.username,
            "monitor": self.monitor.username,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


# -- #15 part 2: emergency access (break-glass, firefighter) ---------------------------------


class EmergencySession(TimeStamped):
    """A person holds ``role`` from ``started_at`` until ``ends_at`` (exclusive), taken at
    once because the policy lists them for it (EMERG-1; core.emergency).

    It ends by itself: every check reads only sessions whose ``ends_at`` is still ahead
    (EMERG-2), so nothing has to run at the end. Ending it early moves ``ends_at`` to that
    moment (``ended_by``); ``planned_end`` keeps what was asked. A controller who is not the
    person reviews its log by ``review_due`` (EMERG-4).
    """

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_sessions"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="emergency_sessions")
    reason = models.TextField()
    started_at = models.DateTimeField()
    planned_end = models.DateTimeField()
    ends_at = models.DateTimeField(db_index=True)
    ended_by = models.CharField(max_length=150, blank=True)
    review_due = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "pk"]
        indexes = [models.Index(fields=["person", "ends_at"], name="access_emerg_person_end")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("started_at")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="An emergency session cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(reviewed_by=models.F("person")),
                name="%(app_label)s_%(class)s_not_self_reviewed",
                violation_error_message="Nobody reviews their own emergency session.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"emergency {self.pk}: {self.person} as {self.role} until {self.ends_at}"

    def as_record(self) -> dict[str, Any]:
        """What the audit trail and the report say about it."""
        return {
            "session": self.pk,
            "person": self.person.username,
            "role": self.role.key,
            "reason": self.reason,
            "started_at": self.started_at,
            "planned_end": self.planned_end,
            "ends_at": self.ends_at,
            "ended_by": self.ended_by,
            "review_due": self.review_due,
            "reviewed_by": self.reviewed_by.username if self.reviewed_by else "",
            "reviewed_at": self.reviewed_at,
            "review_note": self.review_note,
        }


# -- #15 recertification (RECERT-1, RECERT-2) ----------------------------------------------


class ReviewCampaign(TimeStamped):
    """One run of ``access review start``: the assignments due by ``as_of + review_days``."""

    started_by = models.CharField(max_length=150)
    as_of = models.DateField()
    due = models.DateField(help_text="The earliest due date of its items.")

    class Meta:
        ordering = ["-created"]

    @override
    def __str__(self) -> str:
        return f"Access review {self.pk} of {self.as_of}"


class ReviewItem(TimeStamped):
    """One assignment to be kept or revoked by ``reviewer`` by ``due``.

    ``criticality`` and ``critical_function`` are the role's class when the item was made;
    ``suspends_on`` is the first day an undecided item suspends the assignment (a privileged
    one, when the policy says so). A revoke starts a ``role-revoke`` case (``case``); the
    assignment ends when it is released.
    """

    OPEN, KEPT, REVOKED = "open", "kept", "revoked"
    STATUSES = [(OPEN, "open"), (KEPT, "kept"), (REVOKED, "revoked")]

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.PROTECT, related_name="items")
    assignment = models.ForeignKey(
        RoleAssignment, on_delete=models.PROTECT, related_name="review_items"
    )
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_items"
    )
    #: the holder's nearest line manager when the item was made: overdue items show in
    #: their inbox too (None: the holder has none)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    unit = models.CharField(max_length=64, blank=True, help_text="The holder's unit.")
    criticality = models.CharField(max_length=16)
    critical_function = models.BooleanField(default=False)
    #: RECERT-1: made because the period ran out, or ad hoc after the holder moved
    trigger = models.CharField(
        max_length=16, choices=[("period", "period"), ("transfer", "transfer")], default="period"
    )
    due = models.DateField()
    suspends_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=STATUSES, default=OPEN, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due", "pk"]
        indexes = [
            models.Index(fields=["reviewer", "status", "due"], name="review_inbox_idx"),
            models.Index(fields=["status", "suspends_on"], name="review_suspends_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"Review of {self.assignment} by {self.reviewer} ({self.status})"


class ActiveRole(TimeStamped):
    """#15 DSD: ``person`` activated ``role`` (``activation: session``) for the login session
    ``session_key``. Another session of the same person starts with none active; a bearer
    token has no session, so its requests never see these roles (NIST RBAC §5.3.2)."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="active_roles"
    )
    session_key = models.CharField(max_length=40)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "session_key", "role"], name="active_role_once_per_session"
            )
        ]

    @override
    def __str__(self) -> str:
        return f"{self.person_id}:{self.session_key[:6]}:{self.role_id}"
