"""Forms of the billing details and contacts pages: field types and lengths only; every rule
is in ``billing.details`` and ``billing.contacts``."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from billing.details import MAX_LENGTHS
from severa.forms import ClearForm


def _text(label: str, name: str, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, max_length=MAX_LENGTHS[name], required=False, **kwargs)


class BillingDetailsForm(ClearForm):
    street_address = _text(_("Street address"), "street_address")
    postal_code = _text(_("Postal code"), "postal_code")
    city = _text(_("City"), "city")
    country = _text(
        _("Country"), "country", help_text=_("Two-letter ISO 3166 code, e.g. FI, SE, NO, DK.")
    )
    business_id = _text(_("Business id"), "business_id")
    vat_number = _text(_("VAT number"), "vat_number")
    einvoice_address = _text(
        _("eInvoice address"),
        "einvoice_address",
        help_text=_("Your OVT code (e.g. 003715728600) or the IBAN you receive e-invoices at."),
    )
    einvoice_operator = _text(
        _("eInvoice operator"),
        "einvoice_operator",
        help_text=_("The operator's (intermediator's) id: a bank's BIC or an operator code."),
        widget=forms.TextInput(attrs={"list": "einvoice-operators"}),
    )
    peppol_id = _text(
        _("Peppol participant id"),
        "peppol_id",
        help_text=_("Scheme and identifier, e.g. 0216:003715728600 or 0007:5560360793."),
    )
    bank_account = _text(
        _("Bank account (IBAN)"),
        "bank_account",
        help_text=_(
            "Your company's own account, kept with its details, e.g. FI21 1234 5600 0007 85."
        ),
    )


class ContactUserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.get_full_name() or obj.username} <{obj.email}>"


class BillingContactUserForm(ClearForm):
    user_id = ContactUserChoiceField(label=_("User"), queryset=User.objects.none())

    def __init__(self, *args, candidates=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if candidates is not None:
            self.fields["user_id"].queryset = candidates


class BillingContactExternalForm(ClearForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    name = forms.CharField(label=_("Name"), max_length=200)
