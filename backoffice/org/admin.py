"""#13: the admin shows the unit tree only. People, memberships, responsibilities and the
policy's text are personal data, read on the organisation page."""

from __future__ import annotations

from django.contrib import admin

from backoffice.org.models import Unit
from backoffice.readonly_admin import ReadOnlyAdmin, site


@admin.register(Unit, site=site)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "line", "parent", "retired_at")
    list_filter = ("line",)
    search_fields = ("key", "name")
