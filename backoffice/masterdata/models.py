"""Customer master data, the classic four-eyes object: a bank account entered by one
person is released by another before a payment can go to it."""

from __future__ import annotations

from django.db import models
from typing_extensions import override

from backoffice.base.models import TimeStamped

__all__ = ["Customer", "CHANGEABLE_FIELDS"]

#: The fields a master-data-change case may change.
CHANGEABLE_FIELDS = ("iban", "bic", "address", "phone")


class Customer(TimeStamped):
    number = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["number"]

    @override
    def __str__(self) -> str:
        return f"{self.number} {self.name}"
