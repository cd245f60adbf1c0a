from django.apps import AppConfig


class MasterdataConfig(AppConfig):
    """Master data (customers; #16: vendors, items, stock locations, employees): changed only
    through released cases or a whole-file import."""

    name = "backoffice.masterdata"
    label = "masterdata"
    verbose_name = "Master data"

    def ready(self) -> None:
        from backoffice.base.effects import register
        from backoffice.masterdata.effects import (
            CreditLimit,
            EmployeeChange,
            MasterDataChange,
            OrderReference,
            RequisitionReference,
            SalaryChange,
            VendorChange,
            VendorPayment,
        )

        register("masterdata.apply", MasterDataChange())
        # #16: the retailer's vendor data, payments to the account on file, credit limits
        register("masterdata.vendor", VendorChange())
        register("masterdata.vendor_payment", VendorPayment())
        register("masterdata.credit_limit", CreditLimit())
        # #16: HR's released cases write the employee record and the salary
        register("masterdata.employee", EmployeeChange())
        register("masterdata.salary", SalaryChange())
        # #16: receipts and invoices name an approved order; who ordered is read from it
        register("masterdata.order", OrderReference())
        register("masterdata.requisition", RequisitionReference())
