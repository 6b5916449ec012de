"""Forms of the operator's billing pages: field types and limits only; every rule is in
``billing.invoicing`` and ``billing.migration``."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import (
    BillingRunKind,
    BillingRunStatus,
    InvoiceKind,
    InvoiceState,
    SellerEntity,
)
from severa.forms import ClearForm


def _blank(choices) -> list[tuple[str, str]]:
    return [("", _("All")), *choices]


class DateInput(forms.DateInput):
    input_type = "date"


class BillingRunFilterForm(ClearForm):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=_blank(BillingRunKind.choices), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=_blank(BillingRunStatus.choices), required=False
    )


class InvoiceFilterForm(ClearForm):
    seller = forms.ModelChoiceField(
        label=_("Seller"), queryset=SellerEntity.objects.all(), required=False, empty_label=_("All")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=_blank(InvoiceState.choices), required=False
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=_blank(InvoiceKind.choices), required=False)
    tenant = forms.CharField(label=_("Company"), max_length=200, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end is before the start."))
        return cleaned


class PaymentForm(ClearForm):
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    paid_on = forms.DateField(label=_("Paid on"), widget=DateInput)
    reference = forms.CharField(label=_("Reference"), max_length=64, required=False)


class CreditNoteForm(ClearForm):
    """Whole invoice, or an amount (net) per line: fields ``line_<id>`` for the given lines."""

    WHOLE = "whole"
    LINES = "lines"

    scope = forms.ChoiceField(
        label=_("Credit"),
        choices=[(WHOLE, _("The whole invoice")), (LINES, _("The amounts given per line"))],
        initial=WHOLE,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, lines=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line_fields: dict[int, str] = {}
        for line in lines:
            name = f"line_{line.pk}"
            self.fields[name] = forms.DecimalField(
                label=line.description,
                max_digits=14,
                decimal_places=2,
                min_value=Decimal("0.01"),
                required=False,
            )
            self.line_fields[line.pk] = name

    def credited_lines(self) -> dict[int, Decimal] | None:
        """None for the whole invoice, else {line id: net amount to credit}."""
        if self.cleaned_data["scope"] == self.WHOLE:
            return None
        return {
            line_id: self.cleaned_data[name]
            for line_id, name in self.line_fields.items()
            if self.cleaned_data.get(name)
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == self.LINES and not any(
            cleaned.get(name) for name in self.line_fields.values()
        ):
            raise forms.ValidationError(_("Give the amount to credit on at least one line."))
        return cleaned


class SellerMigrationForm(ClearForm):
    from_seller = forms.ModelChoiceField(
        label=_("From seller"), queryset=SellerEntity.objects.all()
    )
    to_seller = forms.ModelChoiceField(label=_("To seller"), queryset=SellerEntity.objects.all())
    cohort_start = forms.DateField(
        label=_("Cohort start"),
        help_text=_("The 1st of a month: subscriptions whose next period starts that day."),
        widget=DateInput,
    )
    notice_days = forms.IntegerField(
        label=_("Notice (days)"), min_value=0, max_value=365, initial=30
    )
