"""The forms of the partner portal and of the customer's Partners page."""

from django import forms
from django.utils.translation import gettext_lazy as _

from partners.models import AGREEMENT_MONTHS, InvoiceRecipient
from severa.forms import ClearForm
from subscriptions.pricebook import MAX_SEATS


class EngagementForm(ClearForm):
    name = forms.CharField(label=_("New engagement"), max_length=200)


class ActivationForm(ClearForm):
    """One form for the three ways in: an existing company by its business id and name, or
    a new company with its mandatory administrator contact."""

    EXISTING_FIELDS = ("company_country", "company_business_id", "company_name")

    engagement = forms.ChoiceField(label=_("Engagement"))
    company_country = forms.CharField(
        label=_("Existing customer's country"), max_length=2, required=False, initial="FI"
    )
    company_business_id = forms.CharField(
        label=_("Existing customer's business id"), max_length=40, required=False
    )
    company_name = forms.CharField(
        label=_("Existing customer's name"), max_length=200, required=False
    )
    name = forms.CharField(label=_("Company name"), max_length=200, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, required=False, initial="FI")
    business_id = forms.CharField(label=_("Business id"), max_length=40, required=False)
    vat_number = forms.CharField(label=_("VAT number"), max_length=40, required=False)
    admin_name = forms.CharField(label=_("Administrator's name"), max_length=200, required=False)
    admin_email = forms.EmailField(label=_("Administrator's e-mail"), required=False)
    edition = forms.ChoiceField(label=_("Edition"), required=False)
    seats = forms.IntegerField(label=_("Seats"), min_value=1, max_value=MAX_SEATS, required=False)
    invoice_recipient = forms.ChoiceField(
        label=_("Invoice recipient"), choices=InvoiceRecipient.choices
    )
    agreement_months = forms.TypedChoiceField(
        label=_("Agreement period"), choices=AGREEMENT_MONTHS, coerce=int
    )

    def __init__(self, *args, engagements, editions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].choices = [(e.pk, e.name) for e in engagements]
        self.fields["edition"].choices = [("", "—")] + [(e.code, e.name) for e in editions]

    @property
    def names_existing_company(self) -> bool:
        return any(self.cleaned_data.get(name) for name in ("company_business_id", "company_name"))


class PartnerEditionForm(ClearForm):
    edition = forms.ChoiceField(label=_("Edition"))
    message = forms.CharField(
        label=_("Message for support (downgrades)"), widget=forms.Textarea, required=False
    )

    def __init__(self, *args, editions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["edition"].choices = [(e.code, e.name) for e in editions]


class PartnerInviteForm(ClearForm):
    partner = forms.CharField(label=_("Partner id or a partner user's e-mail"), max_length=254)


class InvitationAcceptForm(ClearForm):
    engagement = forms.ChoiceField(label=_("Engagement"), required=False)
    engagement_name = forms.CharField(
        label=_("…or a new engagement"), max_length=200, required=False
    )

    details_confirmed = forms.BooleanField(
        label=_("Our business id and e-mail address above are right"), required=True
    )
    accept_terms = forms.BooleanField(label=_("I accept the partner terms"), required=False)

    def __init__(self, *args, engagements, terms=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["engagement"].choices = [("", "—")] + [(e.pk, e.name) for e in engagements]
        if terms is None:
            del self.fields["accept_terms"]
        else:
            self.fields["accept_terms"].required = True


class ApprovalForm(ClearForm):
    accept_terms = forms.BooleanField(label=_("I accept the terms of service"))
