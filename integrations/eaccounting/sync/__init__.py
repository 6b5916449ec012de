"""The Visma eEkonomi sync: one adapter per entity type for the engine
(integrations/engine.py), then the invoice steps that follow eEkonomi's own invoicing.

Rules:

- **Cost centres** (Severa → eEkonomi): each Severa cost centre is an item of eEkonomi's
  cost centre 1 (short name = code, at most 9 characters); invoice rows carry it as
  ``CostCenterItemId1``. Cost centre 1 must be switched on in eEkonomi.
- **Products ↔ articles** both ways, paired by article number = product code. eEkonomi's
  units are read-only: a product whose unit eEkonomi lacks (by code or abbreviation) is
  skipped with that reason, and so is one without a unit. The article's account coding is
  the active service (or goods) coding of the product's VAT rate, else the standard-rate one.
- **Customers** both ways, paired by customer number, then by corporate identity number;
  company or private person as eEkonomi marks it; invoice address ↔ invoice address, postal
  ↔ delivery address. eEkonomi needs an invoice postal code and city.
- **Projects** to eEkonomi only (number at most 9 characters, status 1 ongoing / 2 finished).
- **Invoices** go as *drafts* (``customerinvoicedrafts``) with our reference in
  ``OurReference``; our order reference goes into ``YourReference`` or a text row, as the
  connection chooses. eEkonomi is the master of the real invoice: once a user books the
  draft there, its number and invoice date are written on our invoice; when eEkonomi shows
  it paid it moves to the paid status. A draft deleted without being booked, or an invoice
  credited in eEkonomi, is reported on the invoice's log, never sent again silently.
- **VAT**: each row's code comes from the VAT decision of severa.vat (seller in Sweden):
  domestic rates 25/12/6 % and 0 % → codes 10/11/12/42, reverse charge (a business with a
  valid VAT number in another EU state) → 39, outside the EU → 40.
- **Project fees**: rows of booked supplier invoices with a project come back once each
  (by the row's id) as fees without VAT, with the connection's default product.
"""
