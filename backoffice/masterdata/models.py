"""Customer master data, the classic four-eyes object: a bank account entered by one
person is released by another before a payment can go to it."""

from __future__ import annotations

from django.db import models
from typing_extensions import override

from backoffice.base.models import TimeStamped

__all__ = ["Customer", "CHANGEABLE_FIELDS", "Vendor", "Item", "StockLocation", "Employee"]

#: The fields a master-data-change case may change.
CHANGEABLE_FIELDS = ("iban", "bic", "address", "phone")


class Customer(TimeStamped):
    number = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200)
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    #: #16: the retailer's credit limit for the customer (set by a customer-credit-limit case)
    credit_limit = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["number"]

    @override
    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Vendor(TimeStamped):
    """#16: a supplier; its bank account changes only through a ``vendor-master`` case."""

    number = models.CharField(max_length=6, unique=True)
    name = models.CharField(max_length=200)
    iban = models.CharField(max_length=34)
    address = models.CharField(max_length=300, blank=True)
    payment_terms_days = models.PositiveIntegerField(default=30)

    class Meta:
        ordering = ["number"]

    @override
    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Item(TimeStamped):
    """#16: an article the retailer buys and sells."""

    number = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=8)
    unit_price = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["number"]

    @override
    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class StockLocation(TimeStamped):
    """#16: a place stock is kept; ``unit`` is the organisation unit that answers for it."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)
    unit = models.CharField(max_length=64)

    class Meta:
        ordering = ["code"]

    @override
    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Employee(TimeStamped):
    """#16: personnel master data of a person of the policy (their login name)."""

    number = models.CharField(max_length=6, unique=True)
    person = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    location = models.CharField(max_length=64, blank=True)
    #: written only by released ``employee-master`` and ``salary-change`` cases, never by an
    #: import: a ghost employee or a raise needs two people
    position = models.CharField(max_length=140, blank=True)
    iban = models.CharField(max_length=34, blank=True)
    address = models.CharField(max_length=300, blank=True)
    hired = models.DateField(null=True, blank=True)
    leaving_date = models.DateField(null=True, blank=True)
    monthly_salary = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    salary_effective = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["number"]

    @override
    def __str__(self) -> str:
        return f"{self.number} {self.name}"
