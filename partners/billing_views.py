"""The partner portal's billing pages (/p/<partner_id>/billing/, DESIGN §3.6, §3.8): the
partner's billing details and contacts, and its consolidated invoices with their PDFs.

Every view resolves the partner with `accounts.tenancy.partner_access` (404 for anybody who
does not act for it) and runs inside `billing.scoping.partner_scope`, which shows the
partner's own billing rows and nothing of any tenant's. The rules are in
`partners.services.billing` (and billing's own for the fields); these views only parse and
render.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.tenancy import partner_access
from billing.contacts import (
    RECOMMENDED_CONTACT_COUNT,
    LastBillingContactError,
    partner_billing_contacts_list,
)
from billing.documents import invoice_document, invoice_filename, invoice_pdf_bytes
from billing.forms import BillingContactExternalForm, BillingContactUserForm, BillingDetailsForm
from billing.models import BillingContact, Invoice
from billing.scoping import partner_scope
from billing.views import billing_contact_remove_confirmation
from partners.selectors import (
    partner_billing_details_get,
    partner_billing_details_values,
    partner_invoices,
    partner_user_candidates,
)
from partners.services.billing import (
    partner_billing_contact_add,
    partner_billing_contact_remove,
    partner_billing_details_update,
)
from severa.confirm import confirmed
from severa.errors import refusal_show
from severa.forms import form_errors_from
from severa.identifiers import country_uses_einvoice_address, einvoice_operators

INVOICES_PER_PAGE = 50


def partner_billing_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page whose URL carries ``partner_id``: signed in, acting for the partner (else
    404), run inside the partner's scope with ``request.partner`` set."""

    @wraps(view)
    def wrapped(request: HttpRequest, partner_id: int, *args: Any, **kwargs: Any):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        request.partner = partner_access(user=request.user, partner_id=partner_id)
        with partner_scope(request.partner):
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            return response

    return wrapped


@partner_billing_page
def partner_billing_view(request: HttpRequest) -> HttpResponse:
    """Billing details, contacts and invoices on one page; each form posts its `action`."""
    partner = request.partner
    details = partner_billing_details_get(partner=partner)
    candidates = partner_user_candidates(partner=partner)
    details_form = BillingDetailsForm(initial=partner_billing_details_values(details=details))
    user_form = BillingContactUserForm(candidates=candidates)
    external_form = BillingContactExternalForm()
    if request.method == "POST":
        action = request.POST.get("action")
        form: Form
        if action == "details":
            form = details_form = BillingDetailsForm(request.POST)
        elif action == "contact_user":
            form = user_form = BillingContactUserForm(request.POST, candidates=candidates)
        elif action == "contact_external":
            form = external_form = BillingContactExternalForm(request.POST)
        else:
            raise Http404("Unknown action.")
        if form.is_valid():
            try:
                if action == "details":
                    partner_billing_details_update(
                        partner=partner, data=form.cleaned_data, actor=request.user
                    )
                    messages.success(request, _("The billing details are saved."))
                elif action == "contact_user":
                    contact = partner_billing_contact_add(
                        partner=partner, actor=request.user, user=form.cleaned_data["user_id"]
                    )
                else:
                    contact = partner_billing_contact_add(
                        partner=partner,
                        actor=request.user,
                        email=form.cleaned_data["email"],
                        name=form.cleaned_data["name"],
                    )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                if action != "details":
                    messages.success(
                        request,
                        _("%(contact)s is now a billing contact.") % {"contact": contact.address},
                    )
                return redirect("partner_billing", partner_id=partner.pk)
    contacts = list(partner_billing_contacts_list(partner=partner))
    return render(
        request,
        "partner/billing.html",
        {
            "partner": partner,
            "details": details,
            "details_form": details_form,
            "uses_einvoice": country_uses_einvoice_address(partner.country),
            "operators": sorted(einvoice_operators().items(), key=lambda item: item[1].lower()),
            "contacts": contacts,
            "user_form": user_form,
            "external_form": external_form,
            "has_candidates": candidates.exists(),
            "is_below_recommendation": len(contacts) < RECOMMENDED_CONTACT_COUNT,
            "recommended_count": RECOMMENDED_CONTACT_COUNT,
            "invoices": Paginator(
                partner_invoices(partner=partner).defer("seller_snapshot", "buyer_snapshot"),
                INVOICES_PER_PAGE,
            ).get_page(request.GET.get("page")),
        },
    )


@require_http_methods(["GET", "POST"])
@partner_billing_page
def partner_billing_contact_remove_view(
    request: HttpRequest, billingcontact_id: int
) -> HttpResponse:
    contact = BillingContact.objects.filter(partner=request.partner, pk=billingcontact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    if not confirmed(request):
        return billing_contact_remove_confirmation(
            request,
            contact,
            cancel_url=reverse("partner_billing", kwargs={"partner_id": request.partner.pk}),
        )
    address = contact.address
    try:
        partner_billing_contact_remove(contact=contact, actor=request.user)
    except LastBillingContactError as error:
        refusal_show(request, error)
    else:
        messages.success(
            request, _("%(contact)s is no longer a billing contact.") % {"contact": address}
        )
    return redirect("partner_billing", partner_id=request.partner.pk)


def _invoice(request: HttpRequest, invoice_id: int, *, defer_pdf: bool = True) -> Invoice:
    invoices = Invoice.objects.filter(partner=request.partner, pk=invoice_id).select_related(
        "partner", "credited_invoice"
    )
    if defer_pdf:
        invoices = invoices.defer("pdf", "credited_invoice__pdf")
    invoice = invoices.first()
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


@require_safe
@partner_billing_page
def partner_invoice_detail_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id)
    return render(
        request,
        "partner/invoice_detail.html",
        {
            "partner": request.partner,
            "invoice": invoice,
            "document": invoice_document(invoice=invoice),
        },
    )


@require_safe
@partner_billing_page
def partner_invoice_pdf_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = _invoice(request, invoice_id, defer_pdf=False)
    response = HttpResponse(invoice_pdf_bytes(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice=invoice)}"'
    return response
