"""The demo bank's walls are made through the real services, once."""

from __future__ import annotations

from typing import Any

from backoffice.audit.models import AuditEvent
from backoffice.cases.models import Case
from backoffice.walls.models import (
    AccessRecord,
    DealProject,
    FactCheck,
    IssuerDocument,
    PadAttestation,
    PadOrder,
    WallCrossing,
)
from backoffice.walls.queries import get_denials, listed_issuers
from backoffice.walls.seed import seed_demo_walls


def test_the_demo_walls(demo_bank: Any) -> None:
    assert seed_demo_walls().startswith("seeded the Chinese walls demo")
    assert dict(DealProject.objects.values_list("key", "status")) == {
        "project-falcon": "confidential",
        "project-piston": "public",
    }
    assert listed_issuers("watch") == {"nordbank"}
    assert listed_issuers("restricted") == {"autowerk"}
    crossing = WallCrossing.objects.get()
    assert (crossing.user.username, crossing.requested_by, crossing.approved_by) == (
        "tim.hartmann",
        "jan.schmitt",
        "clara.vogel",
    )
    assert {d.after.get("code") for d in get_denials()} == {"wall.not_inside", "wall.restricted"}
    assert IssuerDocument.objects.filter(kind="public", issuer__key="motorenbau").exists()
    assert AccessRecord.objects.filter(user__username="jan.schmitt").exists()
    events = AuditEvent.objects.count()
    assert seed_demo_walls() == "walls demo data exists already"
    assert AuditEvent.objects.count() == events


def test_the_demo_has_research_and_personal_dealing_to_show(demo_bank: Any) -> None:
    """#17: every outcome of the pre-clearance is on the pages, and a fact check."""
    seed_demo_walls()
    outcomes = set(PadOrder.objects.values_list("status", "code"))
    assert {
        ("executed", ""),
        ("blocked", "pad.restricted"),
        ("blocked", "pad.holding_period"),
        ("blocked", "pad.against_recommendation"),
    } <= outcomes
    assert PadOrder.objects.filter(alerted=True, issuer__key="nordbank").exists()
    assert Case.objects.get(process__key="pad-clearance").status == "submitted"
    [sent] = FactCheck.objects.all()
    assert "18.40" not in sent.body + sent.headline
    assert PadAttestation.objects.filter(employee__username="felix.hoffmann").exists()
