"""Access-risk analysis: which users hold every function of a risk (issue #6).

numpy and pyarrow are imported here and nowhere else in the core, so Django never loads
them unless an access-risk feature is used.
"""

from __future__ import annotations

from backoffice.core.accessrisk.analysis import Analysis, Progress, analyze, evaluate
from backoffice.core.accessrisk.errors import InputError, UnknownRole
from backoffice.core.accessrisk.load import (
    Population,
    load_mitigations,
    load_population,
    load_rules,
)
from backoffice.core.accessrisk.rootcause import (
    Fix,
    Supply,
    causing_roles,
    explain,
    remediate,
    supply,
)
from backoffice.core.accessrisk.rules import LEVELS, CompiledRules, rules_from_data
from backoffice.core.accessrisk.whatif import Cause, RiskChange, WhatIf, risks_of, simulate

__all__ = [
    "LEVELS",
    "Analysis",
    "Cause",
    "CompiledRules",
    "Fix",
    "InputError",
    "Population",
    "Progress",
    "RiskChange",
    "Supply",
    "UnknownRole",
    "WhatIf",
    "analyze",
    "causing_roles",
    "evaluate",
    "explain",
    "load_mitigations",
    "load_population",
    "load_rules",
    "remediate",
    "risks_of",
    "rules_from_data",
    "simulate",
    "supply",
]
