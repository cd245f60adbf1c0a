"""Domain errors with stable, machine-readable codes (``sod.self_approval``, …).

A denial changes nothing; the service that raised it records it in the audit trail, and
the API turns it into RFC 9457 problem+json with the same ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Denied", "DomainError", "http_status_for", "N_", "FORM_ERRORS"]


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate"
    """Mark a message for the catalogue; the web layer translates it when it shows it."""
    return message


@dataclass(frozen=True)
class Denied:
    """A refusal: a stable code and a sentence a person understands."""

    code: str
    message: str
    details: tuple[tuple[str, Any], ...] = field(default=())


class DomainError(Exception):
    """Raised by services when the core refuses a command (or input is invalid)."""

    def __init__(self, code: str, message: str, *, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or []

    @classmethod
    def from_denied(cls, denied: Denied) -> DomainError:
        return cls(denied.code, denied.message)


#: #19: what the person typed is incomplete (a rationale, a vote, a grade, a justification
#: is missing): shown in the form, answered 422, and not recorded as a refusal, since nobody
#: was refused anything
FORM_ERRORS = frozenset(
    {
        "comment.required",
        "credit.rationale_required",
        "credit.decision_required",
        "credit.rating_required",
        "credit.justification_required",
    }
)

#: The HTTP status of each family of codes; the first matching prefix wins.
_STATUS_BY_PREFIX: tuple[tuple[str, int], ...] = (
    *((code, 422) for code in sorted(FORM_ERRORS)),
    ("case.not_found", 404),
    ("case.wrong_state", 409),
    ("case.conflict", 409),
    ("case.pending", 409),
    ("idempotency.", 422),
    ("payload.changed", 409),
    ("payload.", 422),
    ("input.", 422),
    ("process.", 422),
    ("delegation.invalid", 422),
    ("auth.", 401),
    ("masterdata.", 422),
    ("policy.invalid", 422),
    ("policy.separation", 422),
    ("policy.assessment_changed", 409),
    ("access.unknown_", 422),
    ("access.invalid", 422),
    ("access.assessment_changed", 409),
    ("credit.unknown_borrower", 422),
    ("credit.unknown_group", 422),  # #19: borrower master data
    ("credit.borrower_exists", 409),
    ("credit.not_found", 404),
    # #8 Chinese walls: wall.not_inside, wall.conflict, wall.restricted, wall.forbidden are 403
    ("wall.not_found", 404),
    ("wall.project_", 409),
    ("wall.crossing_", 422),
    ("wall.unknown_", 422),
    ("wall.invalid", 422),
    # #15 emergency access: not_listed, too_long, critical_risk, self_review, forbidden 403
    ("emergency.not_found", 404),
    ("emergency.invalid", 422),
    ("emergency.already_active", 409),
    ("emergency.still_active", 409),
    ("emergency.already_reviewed", 409),
    # #15 recertification: review.not_reviewer and review.forbidden are 403
    ("review.not_found", 404),
    ("review.decided", 409),
    ("review.invalid", 422),
    ("review.no_policy", 422),
    # #17 research and personal account dealing: the rules' refusals are 403
    ("research.not_found", 404),
    ("pad.not_found", 404),
    ("pad.not_blocked", 409),
    ("pad.invalid", 422),
    # #17 trading: trading.forbidden and sod.cooling_off are 403
    ("trading.not_found", 404),
    ("trading.invalid", 422),
    ("trading.no_policy", 422),
    ("trading.already_", 409),
    ("trading.not_off_market", 409),
    ("trading.cancelled", 409),
    ("job.not_found", 404),  # #19 jobs: someone else's is not found either
    ("job.no_result", 409),
)


def http_status_for(code: str) -> int:
    """409 for state conflicts, 422 for bad input, 403 for every refusal of a rule."""
    for prefix, status in _STATUS_BY_PREFIX:
        if code.startswith(prefix):
            return status
    return 403
