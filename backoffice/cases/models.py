"""Cases and their append-only events. State is what ``core.four_eyes.replay`` derives.

The row's ``status``/``current_step``/``payload`` are a projection kept for queries; the
events are the record. Every accepted command and every denial adds an event, written by
``services`` only, in the same transaction as its audit event.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from typing_extensions import override

from backoffice.base.models import TimeStamped
from backoffice.core.four_eyes import Event, Status
from backoffice.core.org import Period
from backoffice.core.processes import ProcessSpec

__all__ = [
    "Process",
    "Case",
    "CaseEvent",
    "Delegation",
    "spec_of",
    "ALL_STATUS_LABELS",
    "AGE_LABELS",
]

#: How each state is called on screen (the stored value stays the English word).
STATUS_LABELS = {
    Status.DRAFT: _("draft"),
    Status.SUBMITTED: _("submitted"),
    Status.RETURNED: _("returned"),
    Status.RELEASED: _("released"),
    Status.REJECTED: _("rejected"),
    Status.WITHDRAWN: _("withdrawn"),
}

#: #19: the credit engine's states, which the same ``status`` column holds (no choices of
#: their own in the model, so the lists and filters name them from here)
CREDIT_STATUS_LABELS = {
    "in_voting": _("in voting"),
    "escalated": _("escalated"),
    "approved": _("approved"),
}

#: every state a case can be in, as the cases list's filter and the charts name them
ALL_STATUS_LABELS: dict[str, Any] = {s.value: label for s, label in STATUS_LABELS.items()}
ALL_STATUS_LABELS.update(CREDIT_STATUS_LABELS)

#: #19: the age bands of open cases (``queries.AGE_BANDS``), as the filter and the chart say them
AGE_LABELS: dict[str, Any] = {
    "0-7": _("open under 7 days"),
    "7-30": _("open 7 to 30 days"),
    "30-90": _("open 30 to 90 days"),
    "90-": _("open 90 days or more"),
}


@lru_cache(maxsize=256)
def _parse_spec(canonical: str) -> ProcessSpec:
    return ProcessSpec.model_validate_json(canonical)


def spec_of(definition: dict[str, Any]) -> ProcessSpec:
    """The process spec a stored definition describes (parsed once per distinct definition)."""
    import json

    return _parse_spec(json.dumps(definition, sort_keys=True))


class Process(TimeStamped):
    """A process definition of the live policy (see ``core.processes.ProcessSpec``)."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    definition = models.JSONField()
    policy_version = models.PositiveIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "processes"

    @override
    def __str__(self) -> str:
        return self.name

    @property
    def spec(self) -> ProcessSpec:
        return spec_of(self.definition)

    @property
    def label(self) -> str:
        """#19: the process's name in the reader's language (``name`` stays English)."""
        return self.spec.name.text(get_language())


class Case(TimeStamped):
    """A critical action: entered by its maker, checked and released by others.

    ``definition`` freezes the process rules the case started under, so a later policy
    change never alters the rules of a case already in flight.
    """

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="cases")
    definition = models.JSONField()
    maker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_made"
    )
    status = models.CharField(
        max_length=16, choices=[(s.value, STATUS_LABELS[s]) for s in Status], db_index=True
    )
    current_step = models.CharField(max_length=64, blank=True)
    payload = models.JSONField()
    payload_hash = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    amount = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    version = models.PositiveIntegerField(default=1)
    #: #13/#14: the ``aggregate.by`` value as cases are summed by it (``aggregate_key``);
    #: nullable, so SQLite adds the column without rebuilding the table and its trigger
    aggregate_key = models.CharField(max_length=300, null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["created"]
        indexes = [
            models.Index(fields=["status", "current_step"], name="case_inbox_idx"),
            models.Index(fields=["process", "aggregate_key"], name="case_aggregate_idx"),
            # #19: the cases list sorts by title and by last change; a page reads the index
            # in that order, with the pk as the tie-break its keyset needs
            models.Index(fields=["title", "id"], name="case_title_idx"),
            models.Index(fields=["last_updated", "id"], name="case_changed_idx"),
        ]

    @override
    def __str__(self) -> str:
        return f"Case {self.pk} ({self.process.key}, {self.status})"

    @property
    def spec(self) -> ProcessSpec:
        return spec_of(self.definition)

    def get_status_display(self) -> str:  # type: ignore[no-redef]  # credit states too
        """The state in words, the credit states included (Django's would show those raw)."""
        return str(ALL_STATUS_LABELS.get(self.status, self.status))


class CaseEvent(models.Model):
    """One entry of a case's history; ``kind`` 'denied' records a refused command."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField()
    kind = models.CharField(max_length=16)
    actor = models.CharField(max_length=150)
    on_behalf_of = models.CharField(max_length=150, blank=True)
    step = models.CharField(max_length=64, blank=True)
    payload_hash = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(null=True, blank=True)
    comment = models.TextField(blank=True)
    board = models.BooleanField(default=False)
    tier = models.CharField(max_length=100, blank=True)
    data = models.JSONField(default=dict, blank=True)
    audit_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["case_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="%(app_label)s_%(class)s_seq"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind} by {self.actor}"

    def to_domain(self) -> Event:
        return Event(
            kind=self.kind,
            actor=self.actor,
            on_behalf_of=self.on_behalf_of or None,
            step=self.step or None,
            payload_hash=self.payload_hash or None,
            payload=self.payload,
            comment=self.comment,
            board=self.board,
            tier=self.tier,
            data=self.data if self.kind != "denied" else {},
        )


class Delegation(TimeStamped):
    """``principal`` names ``substitute`` to act in their place, ``valid_from`` to ``valid_to``."""

    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_given"
    )
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_received"
    )
    valid_from = models.DateField()
    valid_to = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=150)
    ended_at = models.DateTimeField(null=True, blank=True)
    #: #13: the released ``delegation`` case in which compliance approved the high access
    #: risks the substitute takes on by acting for the principal (``approved_risks``)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_risks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(principal=models.F("substitute")),
                name="%(app_label)s_%(class)s_not_to_self",
                violation_error_message="Nobody can be their own substitute.",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")),
                name="%(app_label)s_%(class)s_ends_after_start",
                violation_error_message="A delegation must end after it starts.",
            ),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.substitute} for {self.principal} ({self.period})"

    @property
    def period(self) -> Period:
        return Period(self.valid_from, self.valid_to)
