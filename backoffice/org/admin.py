"""Read-only admin: the organisation changes only through policies (and their four-eyes case)."""

from __future__ import annotations

from django.contrib import admin

from backoffice.org.models import Membership, PolicyVersion, Profile, Responsibility, Unit
from backoffice.readonly_admin import ReadOnlyAdmin


@admin.register(Unit)
class UnitAdmin(ReadOnlyAdmin):
    list_display = ("key", "name", "line", "parent", "retired_at")
    list_filter = ("line",)
    search_fields = ("key", "name")


@admin.register(Profile)
class ProfileAdmin(ReadOnlyAdmin):
    list_display = ("user", "display_name", "competence_amount", "competence_currency")
    search_fields = ("user__username", "display_name")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "unit", "role", "valid_from", "valid_to")
    list_filter = ("unit__line", "role")


@admin.register(Responsibility)
class ResponsibilityAdmin(ReadOnlyAdmin):
    list_display = ("user", "unit", "valid_from", "valid_to")


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "file", "sha256", "loaded_at", "loaded_by")
