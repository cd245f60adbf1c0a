"""The web app keeps no tables: login attempts and lock-outs are django-axes' (#13)."""

from __future__ import annotations

__all__: list[str] = []
