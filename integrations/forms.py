from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from integrations import records
from integrations.models import Master, OrderReferenceTo, SyncRunStatus, SyncTrigger
from severa.forms import ClearForm
from subscriptions.models import InterfaceSystem

# Systems whose invoices have no order-number field: the tenant chooses where it goes.
SYSTEMS_WITHOUT_ORDER_NUMBER = frozenset({InterfaceSystem.VISMA_EEKONOMI.value})


class ConnectionCreateForm(ClearForm):
    system = forms.ChoiceField(choices=InterfaceSystem.choices)


def _choices(rows: list[tuple[int, str]]) -> list[tuple[str, str]]:
    return [("", "—")] + [(str(pk), name) for pk, name in rows]


class ConnectionSettingsForm(ClearForm):
    """The set-up checklist: invoice statuses, attachments, existing customers, masters,
    default product, error addresses. The rules are in integrations.connections."""

    send_status_id = forms.TypedChoiceField(
        label=_("Invoice status that sends an invoice"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    received_status_id = forms.TypedChoiceField(
        label=_("Status after the invoice is received"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    paid_status_id = forms.TypedChoiceField(
        label=_("Status when the invoice is paid (optional)"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    transfer_attachments = forms.BooleanField(
        label=_("Transfer invoice attachments"), required=False
    )
    transfer_all_customers = forms.BooleanField(
        label=_("Transfer all existing customers"),
        required=False,
        help_text=_("Only needed for customers that existed before the integration was activated."),
    )
    customers_master = forms.ChoiceField(
        label=_("Master for customer updates"), choices=Master.choices
    )
    products_master = forms.ChoiceField(
        label=_("Master for product updates"), choices=Master.choices
    )
    default_product_id = forms.TypedChoiceField(
        label=_("Default product for transferred fees"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    error_emails = forms.CharField(
        label=_("E-mail addresses for integration errors"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One or more, separated by commas or new lines."),
    )

    order_reference_to = forms.ChoiceField(
        label=_("Where the order reference goes"),
        choices=OrderReferenceTo.choices,
        help_text=_("Visma eEkonomi has no field for the order number."),
    )

    def __init__(self, *args, tenant: Tenant, system: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if system not in SYSTEMS_WITHOUT_ORDER_NUMBER:
            del self.fields["order_reference_to"]
        statuses = _choices(records.invoice_statuses(tenant=tenant))
        for name in ("send_status_id", "received_status_id", "paid_status_id"):
            self.fields[name].choices = statuses
        self.fields["default_product_id"].choices = _choices(records.products(tenant=tenant))

    def clean_error_emails(self) -> list[str]:
        raw = self.cleaned_data["error_emails"].replace(",", "\n")
        return [line.strip() for line in raw.splitlines() if line.strip()]


class ClientCredentialsForm(ClearForm):
    remote_tenant_id = forms.CharField(label=_("Tenant id of the service account"), max_length=100)

    def clean_remote_tenant_id(self) -> str:
        value = self.cleaned_data["remote_tenant_id"].strip()
        if not value:
            raise ValidationError(_("Give the tenant id."))
        return value


class RunFilterForm(ClearForm):
    """The filters of a connection's run history (all runs when left empty)."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + SyncRunStatus.choices
    )
    trigger = forms.ChoiceField(
        label=_("Trigger"), required=False, choices=[("", _("All"))] + SyncTrigger.choices
    )
