"""#18: SCIM groups. A group whose name the policy maps to a role (``identity.roles``) asks
for that role through role-grant cases; its members are never granted anything directly."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

from backoffice.base.models import TimeStamped

__all__ = ["ScimGroup", "ScimLink"]


class ScimGroup(TimeStamped):
    display_name = models.CharField(max_length=200, unique=True)
    external_id = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    class Meta:
        ordering = ["pk"]

    @override
    def __str__(self) -> str:
        return self.display_name


class ScimLink(TimeStamped):
    """What the provisioning system says of a person beyond the login: its own id for
    them (``externalId``) and their department."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_link"
    )
    external_id = models.CharField(max_length=200, blank=True)
    #: the department the provisioning system last sent (a leaver keeps it, without membership)
    department = models.CharField(max_length=64, blank=True)

    @override
    def __str__(self) -> str:
        return f"{self.user}: {self.external_id}"
