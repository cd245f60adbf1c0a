"""Backoffice: segregation of duties you can prove."""

__version__ = "0.1.0"
