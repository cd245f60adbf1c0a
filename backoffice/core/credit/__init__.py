"""Credit decisions as MaRisk BTO 1.1 asks: two votes, a Kompetenzordnung, escalation, committee.

A credit case is a ``cases.Case`` whose process names ``engine: credit``; the cases services
hand its commands to ``decide`` here instead of to ``four_eyes.decide``. Like the four-eyes
engine it is pure: the case is the fold of its events (``replay``), ``decide`` returns the
events a command causes or a ``Denied`` with a stable code, and the facts it needs from the
database (the borrower group's exposure, the voter's moves between units, the board) come in
as ``CreditFacts``. The credit policy (``CreditPolicy``, the ``credit:`` section of the policy
file) is frozen into the case when it starts, so a later policy change never alters the rules
of a case already in flight.

Rules, with their ids (shared/docs/RULES.md):
- CR-1 risk relevance by the group's exposure after this credit and by product lists;
- CR-2 risk-relevant: an approving market vote and an approving back-office vote, by two
  people; otherwise the market vote alone (unless the policy asks for the back office too);
- CR-3 a vote counts only from a voter whose level covers the exposure and the product;
- CR-4 differing votes: rejected, or escalated to a level strictly above both voters; the
  market-independent (back-office) vote is never replaced by a market vote;
- CR-5 committee: quorum with a back-office member; majority and a back-office approval;
- CR-6 a board member deciding against the back-office vote must justify it and the case is
  flagged ``deviating_decision``; any vote or decision of the board member responsible for
  the back office is flagged ``back_office_board_decision``;
- CR-7 large exposures (§13 KWG) and insider loans (§15 KWG) need every board member;
- ORG-3 nobody votes on both sides of one case; COOL-1 cooling-off after a move out of the
  market; PROC-1…PROC-6 problem loans, provisions, rating, reviews, processing control.

The modules, each importing only ones named before it: ``codes`` (the denial codes), ``policy``
(the credit section and its checks), ``state`` (commands, facts, events, ``replay``),
``voting`` (``decide``), ``problem_loans`` (care stages, provisions, reviews, criteria).
"""

from __future__ import annotations

from backoffice.core.cooling import Move
from backoffice.core.credit.codes import CREDIT_DENIAL_CODES
from backoffice.core.credit.policy import (
    CreditPolicy,
    LevelKind,
    credit_policy_problems,
    credit_process_problems,
)
from backoffice.core.credit.problem_loans import (
    CareStage,
    add_months,
    care_stage,
    check_case_lead,
    check_criteria_editor,
    check_provision,
    review_overdue,
)
from backoffice.core.credit.state import (
    CreditAction,
    CreditCase,
    CreditCommand,
    CreditFacts,
    CreditStatus,
    Decision,
    Flag,
    Side,
    Stage,
    Vote,
    as_credit_command,
    assess,
    replay,
)
from backoffice.core.credit.voting import check_processing_control, cooling_off, decide

__all__ = [
    "CREDIT_DENIAL_CODES",
    "CareStage",
    "CreditAction",
    "CreditCase",
    "CreditCommand",
    "CreditFacts",
    "CreditPolicy",
    "CreditStatus",
    "Decision",
    "Flag",
    "LevelKind",
    "Move",
    "Side",
    "Stage",
    "Vote",
    "add_months",
    "as_credit_command",
    "assess",
    "care_stage",
    "check_case_lead",
    "check_criteria_editor",
    "check_processing_control",
    "check_provision",
    "cooling_off",
    "credit_policy_problems",
    "credit_process_problems",
    "decide",
    "replay",
    "review_overdue",
]
