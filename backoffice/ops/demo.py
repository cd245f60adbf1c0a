"""The demo bank's logins: who is who, for the README and the ``demo`` command's output."""

from __future__ import annotations

__all__ = ["DEMO_PASSWORD", "DEMO_LOGINS", "RETAIL_PASSWORD", "RETAIL_LOGINS"]

#: One password for every demo user. Demo only: ``backoffice demo`` prints it.
DEMO_PASSWORD = "musterbank-demo"  # noqa: S105 - a published demo password, not a secret

#: People of demo-bank.yaml worth logging in as, and what each does.
DEMO_LOGINS: tuple[tuple[str, str], ...] = (
    ("anna.schmidt", "market officer, head of Corporate Clients: starts credits and payments"),
    ("lukas.becker", "relationship manager in Corporate Clients (market)"),
    ("maria.keller", "back-office analyst, head of Credit Analysis: the independent second vote"),
    ("jonas.fischer", "credit analyst, moved from the market on 2026-10-01 (cooling-off)"),
    ("lena.schulz", "head of Loan Processing (back office): releases payments and data"),
    ("max.weber", "board member for the market, trading, advisory and underwriting"),
    ("sabine.roth", "board member for the back office, settlement, research and operations"),
    ("thomas.klein", "board member for risk control, compliance and internal audit"),
    ("katharina.braun", "head of Risk Control"),
    ("niklas.wolf", "head of Trading"),
    ("sophie.krueger", "head of Settlement and Control"),
    ("lars.vogt", "trader on the Rates Desk: books trades, asks for corrections (#17)"),
    ("emma.berger", "trader on the Equity Desk (#17)"),
    ("mara.busch", "settlement clerk: matches and confirms trades, imports confirmations"),
    ("ben.krause", "trade controller: reference prices, closes off-market trades"),
    ("tobias.kraus", "settlement clerk, moved from the Equity Desk on 2026-10-15 (cooling-off)"),
    ("tim.hartmann", "research analyst"),
    ("clara.vogel", "compliance officer: walls, watch and restricted lists, SoD rules"),
    ("paula.schwarz", "second compliance officer: approves what Clara requests (#8)"),
    ("jan.schmitt", "head of Underwriting: deal mandates (private side of the wall)"),
    ("laura.lange", "head of Advisory: deal mandates (private side of the wall)"),
    ("lisa.neumann", "research analyst: drafts research that Tim releases"),
    ("martin.jung", "internal auditor: reads the audit trail and the reports"),
    ("oliver.richter", "administrator (IT): proposes policy and user changes, no superuser"),
    ("hanna.schroeder", "second administrator (IT): releases what Oliver proposes"),
    ("nina.koch", "head of HR: requests logins for joiners and leavers (user-admin cases)"),
)

#: #16: the demo retailer Musterhandel GmbH (demo-retail.yaml), served by
#: ``backoffice demo --policy retail``: its own published password.
RETAIL_PASSWORD = "musterhandel-demo"  # noqa: S105 - a published demo password, not a secret

#: People of demo-retail.yaml worth logging in as, and what each does.
RETAIL_LOGINS: tuple[tuple[str, str], ...] = (
    ("katrin.vogt", "managing director (commerce): approves large orders and payments"),
    ("michael.brandt", "managing director (finance, HR): payroll, large payments"),
    ("ute.beck", "head of finance, controller: vendor data, mismatches, journals, payments"),
    ("ralf.simon", "accounts payable: enters invoices, approves others', proposes payments"),
    ("nadine.busch", "accounts payable and vendor master data: new vendors, bank accounts"),
    ("sven.graf", "accounts receivable: customer credit limits, cash application"),
    ("carina.wolff", "general ledger: enters manual journal entries"),
    ("dirk.lehmann", "head of general ledger: posts the entries Carina enters"),
    ("petra.engel", "head of purchasing: approves requisitions and orders"),
    ("david.schreiber", "buyer: turns requisitions into purchase orders"),
    ("frank.albrecht", "head of the central warehouse: requisitions, confirms receipts"),
    ("emre.yilmaz", "warehouse clerk: counts goods in, counts other locations' stock"),
    ("sandra.kaiser", "manager of Shop Berlin, also at the till (a known conflict)"),
    ("tobias.lorenz", "cashier in Shop Berlin: till, refunds, price overrides"),
    ("julia.peters", "stock room Berlin: receipts, write-off requests"),
    ("markus.heinrich", "manager of Shop Hamburg: approves refunds, markdowns, write-offs"),
    ("lea.schubert", "cashier in Shop Hamburg"),
    ("ben.walter", "stock room Hamburg"),
    ("anja.krause", "head of sales: approves credit notes"),
    ("kevin.maurer", "sales order entry: enters credit notes"),
    ("birgit.roth", "head of HR: employee data and salary changes"),
    ("heike.stein", "payroll: releases HR's changes, prepares the payroll run"),
    ("lars.neumann", "administrator (IT): proposes policy and user changes"),
    ("tanja.frey", "second administrator (IT): releases what Lars proposes"),
    ("olga.fuchs", "internal audit: reads everything, approves access risks and mitigations"),
)
