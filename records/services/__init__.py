"""Writing the tenant's business records (DESIGN §3.9): one create and one update function
per record type, called alike by the pages, the API and the integrations' sync engine.

Every function checks all its input before it writes and raises ``ValidationError`` with a
message per field when something is wrong; nothing is saved then (nested addresses,
contacts and invoice rows included). Updates take only the fields they are given, so the
API's PATCH and a sync that knows some fields only pass what they have.

Records passed in (a customer of a project, a unit of a product, ...) must belong to the
same tenant: an id of another tenant's row is answered like an unknown id by the callers,
and refused here as a last line of defence.
"""

from records.services.customers import (
    ADDRESS_KIND_ORDER,
    customer_country,
    customer_create,
    customer_update,
    project_create,
    project_fee_create,
    project_fee_update,
    project_update,
)
from records.services.invoices import (
    DEFAULT_INVOICE_STATUSES,
    MAX_ATTACHMENT_BYTES,
    customer_invoice_attachment_add,
    customer_invoice_create,
    customer_invoice_update,
    invoice_status_create,
    invoice_status_update,
    invoice_statuses_default,
)
from records.services.organisation import (
    business_unit_create,
    business_unit_update,
    cost_centre_create,
    cost_centre_update,
    employee_create,
    employee_sync_from_members,
    employee_update,
    unit_create,
    unit_update,
)
from records.services.products import (
    product_create,
    product_update,
)

__all__ = [
    "ADDRESS_KIND_ORDER",
    "DEFAULT_INVOICE_STATUSES",
    "MAX_ATTACHMENT_BYTES",
    "business_unit_create",
    "business_unit_update",
    "cost_centre_create",
    "cost_centre_update",
    "customer_country",
    "customer_create",
    "customer_invoice_attachment_add",
    "customer_invoice_create",
    "customer_invoice_update",
    "customer_update",
    "employee_create",
    "employee_sync_from_members",
    "employee_update",
    "invoice_status_create",
    "invoice_status_update",
    "invoice_statuses_default",
    "product_create",
    "product_update",
    "project_create",
    "project_fee_create",
    "project_fee_update",
    "project_update",
    "unit_create",
    "unit_update",
]
