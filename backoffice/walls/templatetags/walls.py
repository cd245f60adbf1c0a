"""``{% load walls %}``: whether to show the walls pages (compliance, audit) in the navigation."""

from __future__ import annotations

from typing import Any

from django import template

from backoffice.walls.queries import may_read_walls

register = template.Library()


@register.filter
def may_see_walls(user: Any) -> bool:
    """Compliance and internal audit; the pages check again, this only hides the link."""
    return bool(user.is_authenticated) and may_read_walls(user)
