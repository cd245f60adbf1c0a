"""Cases are read-only in the admin: nothing bypasses the four-eyes service."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from backoffice.cases.models import Case, CaseEvent, Delegation, Process
from backoffice.cases.queries import visible_cases
from backoffice.readonly_admin import ReadOnlyAdmin


@admin.register(Process)
class ProcessAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "policy_version", "retired_at")


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "process",
        "title",
        "status",
        "current_step",
        "maker",
        "amount",
        "currency",
    )
    list_filter = ("status", "process")
    search_fields = ("title",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        """Staff see in the admin only what they may see anywhere (walls, need to know)."""
        return visible_cases(request.user).select_related("process", "maker")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "seq", "kind", "actor", "on_behalf_of", "step", "at")
    list_filter = ("kind",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(case__in=visible_cases(request.user))


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ("principal", "substitute", "valid_from", "valid_to", "ended_at")
