"""#19: a refusal in the reader's language.

The core words each refusal in English with its particulars ("Step 'Release' is for
Payment releaser or Board member; you do not qualify."). A page in another language shows
what the refusal's code means, from the catalogue, so no English is left on it; the code
stays beside it and the English particulars stay in the audit trail and the API.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language, gettext, gettext_noop

from backoffice.core.access import ACCESS_DENIAL_CODES
from backoffice.core.dsd import DSD_DENIAL_CODES
from backoffice.core.four_eyes import DENIAL_CODES
from backoffice.core.walls import WALL_DENIAL_CODES

__all__ = ["MEANINGS", "refusal_text", "field_error_text"]

#: what each code means; the core's own tables first, the credit engine's codes here
MEANINGS: dict[str, str] = {
    **WALL_DENIAL_CODES,
    **DSD_DENIAL_CODES,
    **ACCESS_DENIAL_CODES,
    **DENIAL_CODES,
    "authority.not_above_voters": gettext_noop(
        "the decision must come from a level above those who voted"
    ),
    "authority.product_scope": gettext_noop("the actor's competence does not cover this product"),
    "credit.already_voted": gettext_noop("the actor has voted on this case already"),
    "credit.back_office_vote_required": gettext_noop("the back-office vote is still missing"),
    "credit.market_vote_required": gettext_noop("the market vote is still missing"),
    "credit.case_lead_market": gettext_noop("the market leads the case; this is not yours to do"),
    "credit.control_involved": gettext_noop("whoever voted or decided may not control the case"),
    "credit.criteria_market": gettext_noop("the market may not set the criteria of the decision"),
    "credit.provision_market": gettext_noop("the market may not decide on loan-loss provisions"),
    "credit.not_committee_member": gettext_noop("only members of the credit committee vote here"),
    "credit.quorum_not_met": gettext_noop("the committee has not reached its quorum"),
    "credit.same_voter": gettext_noop("one person may not cast both votes"),
    "credit.vote_not_needed": gettext_noop("no vote of the actor's side is needed now"),
}


def refusal_text(code: str | None, message: str) -> str:
    """The refusal as the reader reads it: in English the core's sentence; otherwise its
    translation if the catalogue has one, else the translated meaning of its code."""
    if (get_language() or "en").startswith("en"):
        return message
    translated = gettext(message)
    if translated != message:
        return translated
    meaning = MEANINGS.get(code or "")
    if meaning is None:
        return message
    text = gettext(meaning)
    return text[:1].upper() + text[1:] + "."


#: what an unknown value of a field was meant to name
_KINDS = (gettext_noop("person"), gettext_noop("unit"), gettext_noop("role"))

#: the core's field errors that carry a value (core.payload), as the catalogue words them
_FIELD_ERRORS = (
    (re.compile(r"at most (?P<n>\d+) characters"), gettext_noop("at most %(n)s characters")),
    (re.compile(r"must be one of: (?P<choices>.*)"), gettext_noop("must be one of: %(choices)s")),
    (
        re.compile(r"the currency must be one of: (?P<choices>.*)"),
        gettext_noop("the currency must be one of: %(choices)s"),
    ),
    (re.compile(r"must be at least (?P<n>\S+)"), gettext_noop("must be at least %(n)s")),
    (re.compile(r"must be at most (?P<n>\S+)"), gettext_noop("must be at most %(n)s")),
    (
        re.compile(r"unknown (?P<kind>person|unit|role) (?P<value>'.*')"),
        gettext_noop("unknown %(kind)s %(value)s"),
    ),
)


def field_error_text(message: str) -> str:
    """A form field's error from the core in the reader's language (#19: validation
    messages are translated like the rest of the page)."""
    translated = gettext(message)
    if translated != message:
        return translated
    for pattern, words in _FIELD_ERRORS:
        found = pattern.fullmatch(message)
        if found is not None:
            values = found.groupdict()
            if "kind" in values:
                values["kind"] = gettext(values["kind"])
            return gettext(words) % values
    return message
