"""Cases are read-only in the admin: nothing bypasses the four-eyes service."""

from django.contrib import admin

from backoffice.cases.models import Case, CaseEvent, Delegation, Process
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


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "seq", "kind", "actor", "on_behalf_of", "step", "at")
    list_filter = ("kind",)


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ("principal", "substitute", "valid_from", "valid_to", "ended_at")
