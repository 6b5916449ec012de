"""The Visma.net ERP sync: one adapter per entity type for the engine
(integrations/engine.py), then the invoice status steps.

- **Customers** both ways, paired by customer number, then by corporate id (organisation
  number). Office (else postal) address ↔ ``mainAddress``, invoice address ↔
  ``invoiceAddress``, the first contact ↔ ``mainContact``. Updates only from the master.
- **Products ↔ inventory items** both ways by item number (= product code, digits):
  description, the unit (base, sales and purchase unit), default price and VAT code.
- **Projects** to Visma.net only: ``projectID`` = number, description, customer, status.
- **Customer invoices** in the sending status go to Visma.net with their lines (item,
  quantity, price, Norwegian VAT code, subaccount segments from the row's department and
  cost centre, integrations/vismanet/segments.py); ``externalReference`` carries our
  reference, so an unclear create is looked up before it is tried again. They then move to
  the received status, and to the paid status once Visma.net shows them ``Closed`` with
  balance 0.
- **Project fees**: each line of a released supplier invoice booked to a project comes back
  once (keyed by the document and line number) as a fee without VAT, with the line's item
  if Severa has it, else the connection's default product.
"""
