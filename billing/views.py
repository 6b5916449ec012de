import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import Role
from accounts.tenancy import BILLING_ROLES, tenant_view
from billing.contacts import (
    RECOMMENDED_CONTACT_COUNT,
    LastBillingContactError,
    billing_contact_add,
    billing_contact_remove,
    billing_contact_user_candidates,
    billing_contacts_list,
)
from billing.details import billing_details_get, billing_details_update, billing_details_values
from billing.documents import invoice_document, invoice_filename, invoice_pdf_bytes
from billing.forms import BillingContactExternalForm, BillingContactUserForm, BillingDetailsForm
from billing.invoice_list import invoice_rows, invoice_rows_query
from billing.models import BillingContact, BillingDetails, Invoice
from billing.seller_change import seller_change_review_dismiss
from severa.confirm import confirmation_page, confirmed
from severa.errors import refusal_show
from severa.forms import form_errors_from
from severa.identifiers import (
    EINVOICE_REGISTER_URL,
    country_uses_einvoice_address,
    einvoice_operators,
)
from severa.paging import page_of, row_url


@tenant_view(*BILLING_ROLES)
def billing_view(request: HttpRequest) -> HttpResponse:
    # The page's content is kept until an invoice, the details, the contacts or the tenant
    # change (templates/tenant/billing.html): each figure is read only when it is rendered.
    tenant = request.tenant
    asked = request.GET.get("page", "")

    @functools.cache
    def details() -> BillingDetails:
        return billing_details_get(tenant=tenant)

    @functools.cache
    def invoices() -> Page:
        return page_of(request, invoice_rows_query(invoices=Invoice.objects.all()))

    return render(
        request,
        "tenant/billing.html",
        {
            "details": details,
            "operator_name": lambda: einvoice_operators().get(details().einvoice_operator, ""),
            "contact_count": lambda: billing_contacts_list(tenant=tenant).count(),
            "invoices": invoices,
            "page_number": asked if asked.isdigit() and len(asked) < 9 else "",
            "rows": functools.cache(
                lambda: invoice_rows(
                    values=invoices().object_list,
                    detail_url=row_url("tenant_invoice_detail", tenant.pk),
                    pdf_url=row_url("tenant_invoice_pdf", tenant.pk),
                )
            ),
        },
    )


@tenant_view(*BILLING_ROLES)
def billing_details_view(request: HttpRequest) -> HttpResponse:
    details = billing_details_get(tenant=request.tenant)
    if request.method == "POST":
        form = BillingDetailsForm(request.POST)
        if form.is_valid():
            try:
                billing_details_update(
                    tenant=request.tenant, data=form.cleaned_data, actor=request.user
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("The billing details are saved."))
                return redirect("tenant_billing_details", tenant_id=request.tenant.pk)
    else:
        form = BillingDetailsForm(initial=billing_details_values(details=details))
    return render(
        request,
        "billing/details.html",
        {
            "form": form,
            "details": details,
            "uses_einvoice": country_uses_einvoice_address(request.tenant.country),
            "operators": sorted(einvoice_operators().items(), key=lambda item: item[1].lower()),
            "einvoice_register_url": EINVOICE_REGISTER_URL,
        },
    )


@tenant_view(*BILLING_ROLES)
def billing_contacts_view(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    candidates = billing_contact_user_candidates(tenant=tenant)
    user_form = BillingContactUserForm(candidates=candidates)
    external_form = BillingContactExternalForm()
    if request.method == "POST":
        is_user = request.POST.get("kind") == "user"
        form: Form
        if is_user:
            form = user_form = BillingContactUserForm(request.POST, candidates=candidates)
        else:
            form = external_form = BillingContactExternalForm(request.POST)
        if form.is_valid():
            try:
                if is_user:
                    contact = billing_contact_add(
                        tenant=tenant, actor=request.user, user=form.cleaned_data["user_id"]
                    )
                else:
                    contact = billing_contact_add(
                        tenant=tenant,
                        actor=request.user,
                        email=form.cleaned_data["email"],
                        name=form.cleaned_data["name"],
                    )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    _("%(contact)s is now a billing contact.") % {"contact": contact.address},
                )
                return redirect("tenant_billing_contacts", tenant_id=tenant.pk)
    contacts = list(billing_contacts_list(tenant=tenant))
    return render(
        request,
        "billing/contacts.html",
        {
            "contacts": contacts,
            "user_form": user_form,
            "external_form": external_form,
            "has_candidates": candidates.exists(),
            "recommended_count": RECOMMENDED_CONTACT_COUNT,
            "is_below_recommendation": len(contacts) < RECOMMENDED_CONTACT_COUNT,
        },
    )


def billing_contact_remove_confirmation(
    request: HttpRequest, contact: BillingContact, *, cancel_url: str
) -> HttpResponse:
    """The step before removing a billing contact (the tenant's or a partner's)."""
    return confirmation_page(
        request,
        title=_("Remove %(contact)s as a billing contact?") % {"contact": contact.address},
        consequences=[
            _("From now on %(contact)s gets no order confirmations and no invoice e-mails.")
            % {"contact": contact.address},
            _("The invoice links already sent to %(contact)s stop working at once.")
            % {"contact": contact.address},
            _("To undo this, add the contact again; the links sent before stay closed."),
        ],
        confirm_label=_("Remove the billing contact"),
        cancel_url=cancel_url,
    )


@require_http_methods(["GET", "POST"])
@tenant_view(*BILLING_ROLES)
def billing_contact_remove_view(request: HttpRequest, billingcontact_id: int) -> HttpResponse:
    contact = get_object_or_404(BillingContact.objects.select_related("user"), pk=billingcontact_id)
    if not confirmed(request):
        return billing_contact_remove_confirmation(
            request,
            contact,
            cancel_url=reverse("tenant_billing_contacts", kwargs={"tenant_id": request.tenant.pk}),
        )
    address = contact.address
    try:
        billing_contact_remove(contact=contact, actor=request.user)
    except LastBillingContactError as error:
        refusal_show(request, error)
    else:
        messages.success(
            request, _("%(contact)s is no longer a billing contact.") % {"contact": address}
        )
    return redirect("tenant_billing_contacts", tenant_id=request.tenant.pk)


# Invoices and credit notes (DESIGN §3.4, §3.7): each opens, with its stored PDF.


@require_safe
@tenant_view(*BILLING_ROLES)
def invoice_detail_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(
        Invoice.objects.defer("pdf", "credited_invoice__pdf").select_related(
            "tenant", "credited_invoice"
        ),
        pk=invoice_id,
    )
    return render(
        request,
        "billing/invoice_detail.html",
        {"invoice": invoice, "document": invoice_document(invoice=invoice)},
    )


@require_safe
@tenant_view(*BILLING_ROLES)
def invoice_pdf_view(request: HttpRequest, invoice_id: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice.objects.select_related("tenant"), pk=invoice_id)
    response = HttpResponse(invoice_pdf_bytes(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice_filename(invoice=invoice)}"'
    return response


@tenant_view(Role.ADMIN)
@require_POST
def seller_change_dismiss_view(request: HttpRequest) -> HttpResponse:
    """Hide the prompt to check licences and company details after a seller change."""
    seller_change_review_dismiss(tenant=request.tenant, actor=request.user)
    return redirect("tenant_home", tenant_id=request.tenant.pk)
