"""#13: the admin shows process definitions only; cases and their events are personal and
may be walled, so they are read through ``cases.queries`` (need to know, Chinese walls)."""

from django.contrib import admin

from backoffice.cases.models import Process
from backoffice.readonly_admin import ReadOnlyAdmin, site


@admin.register(Process, site=site)
class ProcessAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "policy_version", "retired_at")
