"""The partner portal (/p/<partner_id>/...), the customer's approval of an activation and
the partner's acceptance of a customer's invitation (e-mailed links), and the tenant's
Partners page. Each view makes one call into ``subscriptions.partners`` or
``subscriptions.support``."""

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
from accounts.models import Partner, PartnerMembership, Role
from accounts.tenancy import partner_access, tenant_view
from billing.invoice_list import open_invoices
from billing.partner_billing import partner_invoices
from billing.scoping import partner_scope
from severa import clock
from severa.confirm import confirmation_page, confirmed
from severa.errors import refusal_on_form
from severa.forms import form_errors_from
from severa.paging import row_url
from subscriptions import partners as partner_services
from subscriptions.catalog import price_book
from subscriptions.models import Engagement, PartnerActivation, Quote
from subscriptions.overview import partner_overview
from subscriptions.partner_forms import (
    ActivationForm,
    ApprovalForm,
    EngagementForm,
    InvitationAcceptForm,
    PartnerEditionForm,
    PartnerInviteForm,
)
from subscriptions.support import partner_edition_change, support_contact_of_tenant


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
    return price_book("EUR", clock.today()).editions


@partner_view
def partner_home_view(request: HttpRequest) -> HttpResponse:
    partner: Partner = request.partner
    form = EngagementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner_services.engagement_create(partner=partner, name=form.cleaned_data["name"])
        except ValidationError as error:
            _errors_to_messages(request, error)
        else:
            messages.success(request, _("Engagement added."))
            return redirect("partner_home", partner_id=partner.pk)
    customers = partner_services.partner_customers(partner)
    with partner_scope(partner):
        invoices = open_invoices(
            partner_invoices(partner),
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
            "overview": partner_overview(customers, clock.today()),
            "open_invoices": invoices,
            "engagements": Engagement.objects.filter(partner=partner).select_related("customer"),
            "invitations": partner_services.partner_invitations_open(partner),
            "partner_users": PartnerMembership.objects.filter(partner=partner).select_related(
                "user"
            ),
            "form": form,
        },
    )


@partner_view
def partner_customer_view(request: HttpRequest, tenant_id: int) -> HttpResponse:
    partner: Partner = request.partner
    customer = partner_services.partner_customer(partner, tenant_id)
    form = PartnerEditionForm(request.POST or None, editions=_editions())
    if request.method == "POST" and form.is_valid():
        if customer.is_pending:
            raise Http404
        try:
            result = partner_edition_change(
                tenant=customer.tenant,
                partner=partner,
                edition=form.cleaned_data["edition"],
                message=form.cleaned_data["message"],
                by=request.user,
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
    customer = partner_services.partner_customer(partner, tenant_id)
    if not confirmed(request):
        return confirmation_page(
            request,
            title=_("End the collaboration with %(tenant)s?") % {"tenant": customer.tenant.name},
            consequences=_collaboration_end_consequences(
                other=customer.tenant.name, partner_side=True
            ),
            confirm_label=_("End the collaboration"),
            cancel_url=reverse("partner_customer", args=[partner.pk, customer.tenant.pk]),
        )
    try:
        partner_services.collaboration_end(tenant=customer.tenant, partner=partner, by=request.user)
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
    engagements = list(Engagement.objects.filter(partner=partner))
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
                company = partner_services.ExistingCustomer(
                    country=data["company_country"],
                    business_id=data["company_business_id"],
                    name=data["company_name"],
                )
            else:
                customer = partner_services.NewCustomer(
                    name=data["name"],
                    country=data["country"],
                    business_id=data["business_id"],
                    vat_number=data["vat_number"],
                    admin_name=data["admin_name"],
                    admin_email=data["admin_email"],
                )
            activation, _token = partner_services.activation_create(
                partner=partner,
                engagement=data["engagement"],
                by=request.user,
                company=company,
                customer=customer,
                edition=data["edition"],
                seats=data["seats"],
                invoice_recipient=data["invoice_recipient"],
                agreement_months=data["agreement_months"],
            )
        except partner_services.ActivationRateLimited as error:
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
            for i in partner_services.partner_invitations_open(partner)
            if i.pk == partnerinvitation_id
        ),
        None,
    )
    if invitation is None:
        raise Http404
    engagements = Engagement.objects.filter(partner=partner, customer__isnull=True) | (
        Engagement.objects.filter(partner=partner, customer_id=invitation.tenant_id)
    )
    terms = partner_services.partner_terms_current()
    form = InvitationAcceptForm(request.POST or None, engagements=engagements, terms=terms)
    if request.method == "POST" and form.is_valid():
        try:
            partner_services.partner_invitation_accept(
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
            "edition": partner_services.invited_customer_edition(invitation),
        },
    )


# E-mailed links (the token names the activation or invitation; signing in is still needed).


def partner_invitation_open_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = partner_services.partner_invitation_find(token=token)
    if invitation is None:
        raise Http404(_("This invitation is unknown, used or expired."))
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return redirect(
        "partner_invitation",
        partner_id=invitation.partner_id,
        partnerinvitation_id=invitation.pk,
    )


def partner_activation_approve_view(request: HttpRequest, token: str) -> HttpResponse:
    activation: PartnerActivation | None = partner_services.activation_find(token=token)
    if activation is None:
        raise Http404(_("This approval link is unknown, used or expired."))
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _approval_page(request, activation)


@tenant_view(Role.ADMIN)
def tenant_activation_approve_view(request: HttpRequest, partneractivation_id: int) -> HttpResponse:
    """The same approval from the company's Partners page, without the e-mailed link."""
    activation = next(
        (
            a
            for a in partner_services.activations_pending_of_tenant(request.tenant)
            if a.pk == partneractivation_id
        ),
        None,
    )
    if activation is None:
        raise Http404
    return _approval_page(request, activation)


def _approval_page(request: HttpRequest, activation: PartnerActivation) -> HttpResponse:
    from billing.terms import terms_current

    seller = partner_services.activation_seller(activation)
    form = ApprovalForm(request.POST or None)
    # Declining accepts nothing, so it skips the form (its button has formnovalidate).
    if request.method == "POST" and "decline" in request.POST:
        form = ApprovalForm()
        try:
            partner_services.activation_decline(activation=activation, user=request.user)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("You declined the collaboration with %(partner)s.")
                % {"partner": activation.partner.name},
            )
            return redirect("tenant_partners", tenant_id=activation.tenant_id)
    elif request.method == "POST" and form.is_valid():
        try:
            partner_services.activation_approve(
                activation=activation,
                user=request.user,
                terms_accepted=form.cleaned_data["accept_terms"],
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("You now collaborate with %(partner)s.") % {"partner": activation.partner.name},
            )
            return redirect("tenant_upgrades", tenant_id=activation.tenant_id)
    return render(
        request,
        "partner/approve.html",
        {
            "activation": activation,
            "edition_name": partner_services.edition_name(activation.edition),
            "form": form,
            "seller": seller,
            "terms": terms_current(seller) if seller is not None else None,
        },
    )


def seller_terms_view(request: HttpRequest, seller_id: int) -> HttpResponse:
    """The current terms of service of a seller, which an approval asks to accept (terms
    are public: the page needs no sign-in and names nothing of a customer)."""
    from billing.models import SellerEntity
    from billing.terms import terms_current

    seller = SellerEntity.objects.filter(pk=seller_id).first()
    terms = terms_current(seller) if seller is not None else None
    if terms is None:
        raise Http404
    if not terms.text:
        return redirect(terms.url)
    return render(request, "partner/terms.html", {"terms": terms})


# The tenant's Partners page.


@tenant_view(Role.ADMIN, "operator")
def tenant_partners_view(request: HttpRequest) -> HttpResponse:
    form = PartnerInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        named = form.cleaned_data["partner"].strip()
        try:
            partner_services.partner_invitation_create(
                tenant=request.tenant,
                by=request.user,
                partner_id=named if named.isdigit() else None,
                email="" if named.isdigit() else named,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The partner has been invited."))
            return redirect("tenant_partners", tenant_id=request.tenant.pk)
    return render(
        request,
        "tenant/partners.html",
        {
            "form": form,
            "collaborations": partner_services.collaborations_of_tenant(request.tenant),
            "activations": partner_services.activations_pending_of_tenant(request.tenant),
            "invitations": partner_services.partner_invitations_of_tenant(request.tenant),
            "support": support_contact_of_tenant(request.tenant),
        },
    )


def _collaboration_end_consequences(*, other: str, partner_side: bool) -> list[str]:
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


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN, "operator")
def tenant_collaboration_end_view(request: HttpRequest, collaboration_id: int) -> HttpResponse:
    collaboration = next(
        (
            c
            for c in partner_services.collaborations_of_tenant(request.tenant)
            if c.pk == collaboration_id
        ),
        None,
    )
    if collaboration is None:
        raise Http404
    if not confirmed(request):
        return confirmation_page(
            request,
            title=_("End the collaboration with %(partner)s?")
            % {"partner": collaboration.partner.name},
            consequences=_collaboration_end_consequences(
                other=collaboration.partner.name, partner_side=False
            ),
            confirm_label=_("End the collaboration"),
            cancel_url=reverse("tenant_partners", kwargs={"tenant_id": request.tenant.pk}),
        )
    try:
        partner_services.collaboration_end(
            tenant=request.tenant, partner=collaboration.partner, by=request.user
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(
            request,
            _("The collaboration with %(partner)s has ended.")
            % {"partner": collaboration.partner.name},
        )
    return redirect(reverse("tenant_partners", kwargs={"tenant_id": request.tenant.pk}))
