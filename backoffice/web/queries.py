"""#19: the global search. One box finds cases, people, borrowers, issuers and vendors, but
only what the person may see anyway: every kind is read through the same checked query its
own list uses, so the search never shows more than the lists do.

A kind the person may not read is left out silently (they did not ask for it by name, so
there is no refusal to record); an issuer behind a wall is missing for an outsider exactly
as an issuer that does not exist (CW-4: the watch list and confidential deals are secret).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backoffice.base.actor import Actor
from backoffice.cases.queries import visible_cases
from backoffice.credit.queries import BORROWER_READERS, search_borrowers
from backoffice.masterdata.models import Vendor
from backoffice.masterdata.queries import READ_PERMISSION as MASTER_DATA_PERMISSION
from backoffice.walls.models import DealProject, ListEntry
from backoffice.walls.queries import get_issuers, may_read_walls

__all__ = ["MAX_PER_KIND", "MIN_LENGTH", "Hit", "Found", "search"]

#: at most this many hits of each kind: the search is a way in, the lists are for browsing
MAX_PER_KIND = 10
#: shorter text finds too much to be of use (and a case number is typed whole)
MIN_LENGTH = 2
#: no one types more into a search box; longer text is cut, not refused
MAX_LENGTH = 100


@dataclass(frozen=True)
class Hit:
    """One thing found: what it is called, a line about it, and where it is (if anywhere)."""

    title: str
    detail: str = ""
    url: str = ""


@dataclass(frozen=True)
class Found:
    """The hits of one search, by kind, in the order the page shows them."""

    text: str
    kinds: dict[str, list[Hit]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(self.kinds.values())


#: each kind's heading, in the order shown
KIND_LABELS = {
    "cases": _("Cases"),
    "people": _("People"),
    "borrowers": _("Borrowers"),
    "issuers": _("Issuers"),
    "vendors": _("Vendors"),
}


def search(actor: Actor, text: str, limit: int = MAX_PER_KIND) -> Found:
    """Everything the actor may see that matches ``text``, at most ``limit`` of each kind."""
    text = text.strip()[:MAX_LENGTH]
    if len(text) < MIN_LENGTH and not text.isdigit():
        return Found(text)
    kinds = {
        "cases": _cases(actor, text, limit),
        "people": _people(text, limit),
        "borrowers": _borrowers(actor, text, limit),
        "issuers": _issuers(actor, text, limit),
        "vendors": _vendors(actor, text, limit),
    }
    return Found(text, kinds)


def _cases(actor: Actor, text: str, limit: int) -> list[Hit]:
    """By number (``123`` or ``#123``) or title, among the cases the walls let them see."""
    number = text.removeprefix("#")
    matches = Q(title__icontains=text)
    if number.isdigit():
        matches |= Q(pk=int(number))
    cases = visible_cases(actor).filter(matches).select_related("process").order_by("-pk")
    return [
        Hit(
            f"#{case.pk} {case.title}",
            f"{case.process.name} · {case.get_status_display()}",
            reverse("cases:detail", args=[case.pk]),
        )
        for case in cases[:limit]
    ]


def _people(text: str, limit: int) -> list[Hit]:
    """Colleagues by name or login: the organisation chart shows everyone to everyone."""
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(username__icontains=text) | Q(profile__display_name__icontains=text))
        .select_related("profile")
        .order_by("username")
    )
    url = reverse("org:organisation")
    hits = []
    for person in people[:limit]:
        profile = getattr(person, "profile", None)
        name = profile.display_name if profile else person.get_username()
        hits.append(Hit(name, person.get_username(), url))
    return hits


def _borrowers(actor: Actor, text: str, limit: int) -> list[Hit]:
    """Borrowers only for those who work on or control credits (need-to-know, AT 7.2)."""
    if not BORROWER_READERS & actor.permissions:
        return []
    borrowers = search_borrowers(actor, text).order_by("number")
    return [
        Hit(
            f"{b.number} {b.name}",
            b.group.name,
            reverse("credit:borrower", args=[b.number]),
        )
        for b in borrowers[:limit]
    ]


def _issuers(actor: Actor, text: str, limit: int) -> list[Hit]:
    """Issuers by name or key; one on the watch list or under a confidential deal only to
    control and to those inside that deal's wall (CW-4)."""
    issuers = get_issuers().filter(Q(name__icontains=text) | Q(key__icontains=text))
    walls_reader = may_read_walls(actor)
    if not walls_reader:
        watched = ListEntry.objects.filter(
            issuer=OuterRef("pk"), kind=ListEntry.Kind.WATCH, until__isnull=True
        )
        confidential = DealProject.objects.filter(
            issuer=OuterRef("pk"), status=DealProject.Status.CONFIDENTIAL
        )
        inside = sorted({issuer for issuer, _area in actor.wall.insider_of})
        secret = Q(Exists(watched)) | Q(Exists(confidential))
        issuers = issuers.exclude(secret & ~Q(key__in=inside))
    url = reverse("walls:overview") if walls_reader else ""
    return [
        Hit(issuer.name, issuer.conflict_class.name, url)
        for issuer in issuers.order_by("name", "pk")[:limit]
    ]


def _vendors(actor: Actor, text: str, limit: int) -> list[Hit]:
    """Vendors (bank accounts!) for finance, the board and internal audit (reports.read)."""
    if MASTER_DATA_PERMISSION not in actor.permissions:
        return []
    vendors = Vendor.objects.filter(Q(number__icontains=text) | Q(name__icontains=text))
    url = reverse("masterdata:vendors")
    return [Hit(f"{v.number} {v.name}", v.address, url) for v in vendors.order_by("number")[:limit]]
