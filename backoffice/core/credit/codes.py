"""Every denial code of the credit engine and the credit services, with what it means.

A refusal of ``decide``, of the problem-loan checks or of the credit services carries one of
these stable codes (``Denied.code``); the text says which rule (CR-…, PROC-…, COOL-1,
ORG-3 in shared/docs/RULES.md) the code stands for.
"""

from __future__ import annotations

#: Every denial code of the credit engine and the credit services, with what it means.
CREDIT_DENIAL_CODES: dict[str, str] = {
    "credit.back_office_vote_required": "CR-2/CR-4: the second vote, or an escalation "
    "decision, must come from the back office, not from the market",
    "credit.market_vote_required": "CR-2: the market vote is still missing",
    "credit.vote_not_needed": "CR-2: this business needs no (further) vote of that kind",
    "credit.same_voter": "CR-2/ORG-3: one person never votes on both sides of a case",
    "credit.already_voted": "the person already voted or decided on this case",
    "credit.rationale_required": "every vote, decision and control needs a rationale",
    "credit.decision_required": "a vote or decision must say approve or reject",
    "credit.rating_required": "PROC-4: the back-office vote in risk-relevant business sets "
    "the binding rating (a grade of the policy's scale)",
    "credit.justification_required": "CR-6: a board member deciding against the back-office "
    "vote must justify it",
    "credit.not_committee_member": "CR-5: only members of the credit committee vote there",
    "credit.quorum_not_met": "CR-5: the committee lacks its quorum or a back-office member",
    "credit.control_involved": "PROC-6: the processing-control reviewer may be neither the "
    "processor nor a voter of the case",
    "credit.criteria_market": "PROC-1: problem-loan criteria and the rating scale are changed "
    "only outside the market",
    "credit.case_lead_market": "PROC-2: the lead of intensive care or workout is outside the "
    "market",
    "credit.provision_market": "PROC-3: significant risk provisions are proposed and approved "
    "outside the market",
    "credit.unknown_borrower": "the borrower is not in the borrower register",
    "credit.not_permitted": "the person lacks the permission for this credit action",
    "credit.not_found": "there is no such credit (or the caller may not see it)",
    "reports.forbidden": "registers and reports are for holders of reports.read",
    "authority.limit_exceeded": "CR-3: the exposure exceeds the voter's authority level",
    "authority.product_scope": "CR-3: the voter's authority level does not cover the product",
    "authority.not_above_voters": "CR-4: an escalation is decided only at a level strictly "
    "above both voters",
    "sod.cooling_off": "COOL-1: after a move out of the market the person may not control "
    "business they handled there",
    "sod.self_approval": "the maker (processor) of a case never votes on it",
    "step.not_eligible": "the person may not cast this kind of vote",
    "step.wrong_action": "the command does not apply to credit cases at this stage",
    "case.wrong_state": "the command does not apply in the case's current state",
    "case.not_maker": "only the maker may do this",
    "process.not_startable": "the actor may not start this process",
    "payload.invalid": "the payload does not match the process's schema",
    "payload.changed": "the payload changed since the actor looked at it",
    "actor.inactive": "the actor's account is not active",
    "comment.required": "a comment cannot be empty",
}
