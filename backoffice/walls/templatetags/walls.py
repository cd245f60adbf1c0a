"""``{% load walls %}``: whether to show compliance's walls pages in the navigation."""

from __future__ import annotations

from typing import Any

from django import template

from backoffice.accounts.queries import get_actor_facts
from backoffice.walls.queries import MANAGE_PERMISSION

register = template.Library()


@register.filter
def may_manage_walls(user: Any) -> bool:
    """Compliance (``walls.manage``); the pages check again, this only hides the link."""
    return bool(user.is_authenticated) and MANAGE_PERMISSION in get_actor_facts(user).permissions
