"""The floor every app stands on: shared model bases, the HTTP pieces every API and page
uses (problem responses, idempotency, CSV), request-scoped context and the ``Actor``.

It imports only Django and ``backoffice.core``; every other app may import it, it imports
no app (``tests/test_structure.py`` holds the layering).
"""
