"""The partner portal (/p/<partner_id>/...): the partner's customers, engagements,
activations and customers' invitations. Each view makes one call into ``partners.services``
or ``partners.selectors``; the portal's billing pages are in ``partners.billing_views``, the
customer's side in ``partners.tenant_views``."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.locale_format import date_format
from accounts.models import Partner
from accounts.tenancy import partner_access
from billing.invoice_list import open_invoices
from billing.scoping import partner_scope
from partners import selectors, services
from partners.forms import (
    ActivationForm,
    EngagementForm,
    InvitationAcceptForm,
    PartnerEditionForm,
)
from severa import clock
from severa.confirm import confirmation_page, confirmed
from severa.errors import refusal_on_form
from severa.forms import form_errors_from
from severa.paging import row_url
from subscriptions.catalog import price_book
from subscriptions.models import Quote


def partner_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A portal page: ``request.partner`` is the partner the user acts for, else 404."""

    @wraps(view)
    def wrapped(request: HttpRequest, partner_id: int, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        request.partner = partner_access(user=request.user, partner_id=partner_id)
        return view(request, *args, **kwargs)

    return wrapped


def _errors_to_messages(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _editions():
    return price_book(currency="EUR", on=clock.today()).editions


@partner_view
def partner_home_view(request: HttpRequest) -> HttpResponse:
    partner: Partner = request.partner
    form = EngagementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_create(
                partner=partner, name=form.cleaned_data["name"], actor=request.user
            )
        except ValidationError as error:
            _errors_to_messages(request, error)
        else:
            messages.success(request, _("Engagement added."))
            return redirect("partner_home", partner_id=partner.pk)
    customers = selectors.partner_customers(partner=partner)
    with partner_scope(partner):
        invoices = open_invoices(
            invoices=selectors.partner_invoices(partner=partner),
            today=clock.today(),
            detail_url=row_url("partner_invoice_detail", partner.pk),
            pdf_url=row_url("partner_invoice_pdf", partner.pk),
        )
    return render(
        request,
        "partner/home.html",
        {
            "partner": partner,
            "customers": customers,
            "overview": selectors.partner_overview(customers=customers, today=clock.today()),
            "open_invoices": invoices,
            "engagements": selectors.engagements_of_partner(partner=partner),
            "invitations": selectors.partner_invitations_open(partner=partner),
            "partner_users": selectors.partner_memberships(partner=partner),
            "form": form,
        },
    )


@partner_view
def partner_customer_view(request: HttpRequest, tenant_id: int) -> HttpResponse:
    partner: Partner = request.partner
    customer = selectors.partner_customer(partner=partner, tenant_id=tenant_id)
    form = PartnerEditionForm(request.POST or None, editions=_editions())
    if request.method == "POST" and form.is_valid():
        if customer.is_pending:
            raise Http404
        try:
            result = services.partner_edition_change(
                tenant=customer.tenant,
                partner=partner,
                edition=form.cleaned_data["edition"],
                message=form.cleaned_data["message"],
                actor=request.user,
            )
        except ValidationError as error:
            _errors_to_messages(request, error)
        else:
            if isinstance(result, Quote):
                # The upgrade is confirmed on the customer's Agreement page (§3.3).
                return redirect(
                    "tenant_agreement", tenant_id=customer.tenant.pk, quote_id=result.pk
                )
            messages.success(
                request,
                _(
                    "A downgrade can lose the customer's data, so it is not self-service: "
                    "support has your request and will contact you."
                ),
            )
            return redirect("partner_customer", partner_id=partner.pk, tenant_id=customer.tenant.pk)
    # "Activate a subscription" names the company as the partner would type it.
    activation_query = urlencode(
        {
            "company_country": customer.tenant.country,
            "company_business_id": customer.tenant.business_id,
            "company_name": customer.tenant.name,
        }
    )
    return render(
        request,
        "partner/customer.html",
        {
            "partner": partner,
            "customer": customer,
            "form": form,
            "activation_query": activation_query,
        },
    )


@require_http_methods(["GET", "POST"])
@partner_view
def partner_customer_end_view(request: HttpRequest, tenant_id: int) -> HttpResponse:
    partner: Partner = request.partner
    customer = selectors.partner_customer(partner=partner, tenant_id=tenant_id)
    if not confirmed(request):
        return confirmation_page(
            request,
            title=_("End the collaboration with %(tenant)s?") % {"tenant": customer.tenant.name},
            consequences=collaboration_end_consequences(
                other=customer.tenant.name, partner_side=True
            ),
            confirm_label=_("End the collaboration"),
            cancel_url=reverse("partner_customer", args=[partner.pk, customer.tenant.pk]),
        )
    try:
        services.collaboration_end(tenant=customer.tenant, partner=partner, actor=request.user)
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(
            request,
            _("The collaboration with %(tenant)s has ended.") % {"tenant": customer.tenant.name},
        )
    return redirect("partner_home", partner_id=partner.pk)


@partner_view
def partner_activation_view(request: HttpRequest) -> HttpResponse:
    partner: Partner = request.partner
    engagements = list(selectors.engagements_of_partner(partner=partner))
    form = ActivationForm(
        request.POST or None,
        initial={
            name: request.GET[name]
            for name in ActivationForm.EXISTING_FIELDS
            if name in request.GET
        },
        engagements=engagements,
        editions=_editions(),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            company = None
            customer = None
            if form.names_existing_company:
                company = services.ExistingCustomer(
                    country=data["company_country"],
                    business_id=data["company_business_id"],
                    name=data["company_name"],
                )
            else:
                customer = services.NewCustomer(
                    name=data["name"],
                    country=data["country"],
                    business_id=data["business_id"],
                    vat_number=data["vat_number"],
                    admin_name=data["admin_name"],
                    admin_email=data["admin_email"],
                )
            activation, _token = services.activation_create(
                partner=partner,
                engagement=data["engagement"],
                actor=request.user,
                company=company,
                customer=customer,
                edition=data["edition"],
                seats=data["seats"],
                invoice_recipient=data["invoice_recipient"],
                agreement_months=data["agreement_months"],
            )
        except services.ActivationRateLimited as error:
            refusal_on_form(form, error)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request,
                _(
                    "Activated. %(tenant)s's administrator has an e-mail to approve the "
                    "collaboration; nothing is active or charged until then."
                )
                % {"tenant": activation.tenant.name},
            )
            return redirect("partner_home", partner_id=partner.pk)
    return render(
        request,
        "partner/activation.html",
        {"partner": partner, "form": form, "has_engagements": bool(engagements)},
    )


@partner_view
def partner_invitation_view(request: HttpRequest, partnerinvitation_id: int) -> HttpResponse:
    """Accept a customer's invitation from the portal (the e-mailed link lands here)."""
    partner: Partner = request.partner
    invitation = next(
        (
            i
            for i in selectors.partner_invitations_open(partner=partner)
            if i.pk == partnerinvitation_id
        ),
        None,
    )
    if invitation is None:
        raise Http404
    engagements = selectors.engagements_for_invitation(invitation=invitation)
    terms = selectors.partner_terms_current()
    form = InvitationAcceptForm(request.POST or None, engagements=engagements, terms=terms)
    if request.method == "POST" and form.is_valid():
        try:
            services.partner_invitation_accept(
                invitation=invitation,
                user=request.user,
                engagement=form.cleaned_data["engagement"] or None,
                engagement_name=form.cleaned_data["engagement_name"],
                details_confirmed=form.cleaned_data["details_confirmed"],
                terms_version=request.POST.get("terms_version", ""),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("You now collaborate with %(tenant)s.") % {"tenant": invitation.tenant.name},
            )
            return redirect("partner_home", partner_id=partner.pk)
    return render(
        request,
        "partner/invitation.html",
        {
            "partner": partner,
            "invitation": invitation,
            "form": form,
            "terms": terms,
            "edition": selectors.invited_customer_edition(invitation=invitation),
        },
    )


def collaboration_end_consequences(*, other: str, partner_side: bool) -> list[str]:
    today = date_format(clock.today())
    if partner_side:
        access = _("From today, %(date)s, your organisation has no access to %(other)s.")
    else:
        access = _("From today, %(date)s, %(other)s has no access to this company.")
    return [
        access % {"date": today, "other": other},
        _("Activations waiting for approval are cancelled."),
        _(
            "This cannot be undone: to work together again, the company must invite the "
            "partner anew."
        ),
    ]
