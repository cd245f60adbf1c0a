"""Loaded by pytest before Django's settings (``-p tests._env`` in pyproject.toml).

The test client and the live server speak plain HTTP, so the redirect to HTTPS that
production wants is off here; HSTS, Secure cookies and the CSP stay as in production.
"""

import os

os.environ.setdefault("BACKOFFICE_SSL_REDIRECT", "0")
