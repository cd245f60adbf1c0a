"""The ``policy.apply`` effect: a released policy-change case loads the new policy.

#13: a change that makes control weaker (``core.policy_diff``) needs compliance's approval
besides the second administrator's. The effect works out the case's ``weakens`` field
from the live policy, shows the change's meaning above the YAML diff, and checks again
when the case is released that the live policy still agrees with what was approved.

#15: a change that lets one person complete a process alone, the engine's maker rule
counted (``core.policy_verify``), is refused outright, naming the process and the witness;
a new (or renamed) process too.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.db import transaction

from backoffice.base.effects import EffectProblem
from backoffice.core.actors import ActorFacts
from backoffice.core.credit import check_criteria_editor
from backoffice.core.errors import Denied
from backoffice.core.policy import Policy, PolicyInvalid, parse_policy
from backoffice.core.policy_diff import RuleChange, diff_policies, weakens
from backoffice.core.policy_verify import newly_unsafe
from backoffice.org.models import PolicyVersion
from backoffice.org.queries import get_live_policy
from backoffice.org.services import SeparationViolated, apply_policy, live_policy, validate_policy

__all__ = ["PolicyChange"]


@lru_cache(maxsize=8)
def _parsed(raw: bytes) -> Policy | None:
    """The proposed policy, parsed once per content (a case page shows it again and again);
    None when it cannot be read (``check`` reports why)."""
    try:
        return parse_policy(raw, "proposed policy").policy
    except PolicyInvalid:
        return None


class PolicyChange:
    """Proposed by one administrator, released by another (four eyes on the rules), and by
    compliance too when the change makes control weaker (#13)."""

    field = "policy"
    #: the derived payload field that the policy-change process's compliance step reads
    weakens_field = "weakens"

    def _raw(self, payload: Mapping[str, Any]) -> bytes:
        return str(payload.get(self.field) or "").encode("utf-8")

    def initial(self) -> dict[str, Any]:
        """#19: a proposal starts from the live policy, not from an empty box."""
        live = live_policy()
        return {self.field: live.source} if live is not None else {}

    def _proposed(self, payload: Mapping[str, Any]) -> Policy | None:
        return _parsed(self._raw(payload))

    def _changes(self, payload: Mapping[str, Any]) -> list[RuleChange] | None:
        """The change's meaning against the live policy; None if it cannot be worked out."""
        live, proposed = get_live_policy(), self._proposed(payload)
        if live is None or proposed is None:
            return None
        return diff_policies(live, proposed)

    def _weakens(self, payload: Mapping[str, Any]) -> str:
        changes = self._changes(payload)
        return "no" if changes is not None and not weakens(changes) else "yes"  # fail-safe

    def derive(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {self.weakens_field: self._weakens(payload)}

    def check(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        try:
            validate_policy(self._raw(payload), "proposed policy")
        except PolicyInvalid as exc:
            return EffectProblem(
                "policy.invalid",
                f"The proposed policy has {len(exc.problems)} problem(s).",
                [{"field": self.field, "message": str(p)} for p in exc.problems],
            )
        except SeparationViolated as exc:
            return EffectProblem(
                "policy.separation",
                "The proposed policy breaks separation rules.",
                [
                    {"field": self.field, "message": f"{v.rule}: {v.message}"}
                    for v in exc.violations
                ],
            )
        return self._check_safety(payload) or self._check_assessment(payload)

    def _check_safety(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        """#15: no process may become one that one person completes alone, nor be added as
        one; compliance cannot approve that either."""
        live, proposed = get_live_policy(), self._proposed(payload)
        if live is None or proposed is None:
            return None
        unsafe = newly_unsafe(live, proposed)
        if not unsafe:
            return None
        first = unsafe[0]
        assert first.witness is not None
        return EffectProblem(
            "policy.unsafe",
            f"The change lets one person complete {first.name} ({first.process}) alone: "
            f"{first.witness.text()}.",
            [{"field": self.field, "message": v.text()} for v in unsafe],
        )

    def _check_assessment(self, payload: Mapping[str, Any]) -> EffectProblem | None:
        """#13: judged against the live policy as it is now. Another policy change may have
        been released since the case was assessed, and then the same proposal can undo it;
        the latest version's row is locked first so that none is released meanwhile."""
        if transaction.get_connection().in_atomic_block:  # a release, not a look
            PolicyVersion.objects.select_for_update().order_by("-number").values_list(
                "pk", flat=True
            ).first()
        now = self._weakens(payload)
        assessed = payload.get(self.weakens_field)
        if now != "yes" or assessed == "yes":
            return None
        if assessed is None:
            return EffectProblem(
                "policy.compliance_required",
                "The change makes control weaker and this process has no approval by "
                "compliance for that; it cannot be released.",
            )
        return EffectProblem(
            "policy.assessment_changed",
            "The change was assessed as not weakening control, but against the live policy "
            "it does now. Return and amend the case so it is assessed, and approved, again.",
        )

    def check_actor(self, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        """PROC-1: a change of the problem-loan criteria or the rating scale is never made
        (proposed or released) by someone in the market (MaRisk BTO 1.2.4, BTO 1.4)."""
        proposed = self._proposed(payload)
        if proposed is None:
            return None  # ``check`` reports the problems
        live = get_live_policy()
        return check_criteria_editor(live.credit if live else None, proposed.credit, facts)

    def preview(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        live = live_policy()
        before = live.source if live else ""
        after = self._raw(payload).decode("utf-8")
        diff = difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"live policy v{live.number}" if live else "no policy",
            tofile="proposed policy",
        )
        changes = self._changes(payload)
        return {
            "kind": "diff",
            # #13: what the change means, weakening changes marked, above the YAML diff
            "changes": [
                {
                    "section": c.section.value,
                    "subject": c.subject,
                    "text": c.text,
                    "weakens": c.weakens,
                }
                for c in changes or []
            ],
            "weakens": changes is None or weakens(changes),
            "understood": changes is not None,
            "diff": "".join(diff),
        }

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        meaning = self._changes(case.payload)  # against the policy it replaces, for the record
        result = apply_policy(
            self._raw(case.payload),
            f"policy-change case {case.pk}",
            actor=actor,
            reason=f"released policy-change case {case.pk}, proposed by {case.maker.username}",
        )
        return {
            "policy_version": result.version.number if result.version else None,
            "changes": len(result.changes),
            "weakens": meaning is None or weakens(meaning),
            "meaning": [{"text": c.text, "weakens": c.weakens} for c in meaning or []],
        }
