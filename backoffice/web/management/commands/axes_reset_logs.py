"""django-axes' ``axes_reset_logs``, refused: it leaves no trace (#13; ../refused.py)."""

from backoffice.web.management.refused import RefusedAxesCommand as Command

__all__ = ["Command"]
