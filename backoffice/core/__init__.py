"""The pure domain of Backoffice: it decides, it never persists.

Nothing under ``backoffice.core`` imports Django or any app; a test enforces it.
Apps pass plain data in and persist what comes out.
"""
