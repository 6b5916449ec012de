"""The Fortnox sync (DESIGN §3.9, the Severa ↔ Fortnox set-up guide): one adapter per
entity type for the generic engine (integrations/engine.py), and the invoice status steps
that follow it.

Rules, per the guide:

- **Units** both ways, matched by code.
- **Products ↔ articles** both ways: the article number is the product code, which must be
  numeric (a product with an empty or non-numeric code is skipped, and so is an article
  with a non-numeric number); matched by number *and* name; a product whose unit Fortnox
  lacks is not sent (a product without a unit is). Updates only from the connection's
  master for products. Prices are not written: Fortnox keeps article prices in price lists.
- **Customers** both ways, matched by customer number; a customer needs a customer
  number, a VAT number and an address, and only Fortnox customers of type COMPANY come to
  Severa. Address kinds map invoice → Address1…, postal → Delivery…, office → Visiting…
  (the first address of a kind wins); Fortnox has one contact per customer
  (``YourReference``, with the customer's e-mail and phone). Updates only from the master.
- **Projects** to Fortnox only; Severa is always master.
- **Customer invoices** go to Fortnox when they reach the connection's sending status
  (``ExternalInvoiceReference1`` carries our reference, so an unclear create is looked up
  before it is tried again), then move to the received status; they move to the paid status
  once Fortnox shows them paid (balance 0, booked, not cancelled). When the tenant chose to
  transfer attachments, each attachment of an invoice Fortnox has is uploaded to the
  Fortnox inbox and attached to the invoice (``/api/fileattachments``), once.
- **Project fees**: supplier-invoice rows booked to a project (in booked supplier invoices
  changed since the activation) come back once each (entity map id: the ``GivenNumber`` and
  a hash of what the row books) as fees
  without VAT; the product is the article of the row if
  Severa has it, else the connection's default product; a fee with a product is billable
  at cost, one without is cost only.

Reads are kept few: existing Fortnox records are looked up in one listing per entity type
and run (a direct GET only after an unclear create), articles are compared from list
items, and a customer paired already is fetched in full only when Fortnox is master for
customers (otherwise its Fortnox changes are not applied anyway).
"""
