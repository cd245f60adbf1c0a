"""No admin for the audit trail (#13): events are read only through ``/audit/`` and
``/api/v1/audit``, which check ``audit.read`` and hide walled cases' events."""
