"""The ``policy.apply`` effect: a released policy-change case loads the new policy."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from backoffice.cases.effects import EffectProblem
from backoffice.core.actors import ActorFacts
from backoffice.core.credit import check_criteria_editor
from backoffice.core.errors import Denied
from backoffice.core.policy import PolicyInvalid, parse_policy
from backoffice.org.services import SeparationViolated, apply_policy, live_policy, validate_policy

__all__ = ["PolicyChange"]


class PolicyChange:
    """Proposed by one administrator, released by another (four eyes on the rules)."""

    field = "policy"

    def _raw(self, payload: Mapping[str, Any]) -> bytes:
        return str(payload.get(self.field) or "").encode("utf-8")

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
        return None

    def check_actor(self, payload: Mapping[str, Any], facts: ActorFacts) -> Denied | None:
        """PROC-1: a change of the problem-loan criteria or the rating scale is never made
        (proposed or released) by someone in the market (MaRisk BTO 1.2.4, BTO 1.4)."""
        try:
            proposed = parse_policy(self._raw(payload), "proposed policy").policy.credit
        except PolicyInvalid:
            return None  # ``check`` reports the problems
        live = live_policy()
        current = parse_policy(live.source.encode(), "live").policy.credit if live else None
        return check_criteria_editor(current, proposed, facts)

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
        return {"kind": "diff", "diff": "".join(diff)}

    def apply(self, case: Any, *, actor: str) -> dict[str, Any]:
        result = apply_policy(
            self._raw(case.payload),
            f"policy-change case {case.pk}",
            actor=actor,
            reason=f"released policy-change case {case.pk}, proposed by {case.maker.username}",
        )
        return {
            "policy_version": result.version.number if result.version else None,
            "changes": len(result.changes),
        }
