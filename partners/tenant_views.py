"""The customer's side of partners (DESIGN §3.8): the company's Partners page (invite a
partner, end a collaboration, approve a waiting activation), the approval of an activation
and the partner's acceptance of a customer's invitation by their e-mailed links, and the
sellers' public terms an approval asks to accept."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.tenancy import tenant_view
from billing.models import SellerEntity
from billing.terms import terms_current
from partners import selectors, services
from partners.forms import ApprovalForm, PartnerInviteForm
from partners.models import PartnerActivation
from partners.views import collaboration_end_consequences
from severa.confirm import confirmation_page, confirmed
from subscriptions.support import support_contact_of_tenant

# E-mailed links (the token names the activation or invitation; signing in is still needed).


def partner_invitation_open_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.partner_invitation_find(token=token)
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
    activation: PartnerActivation | None = selectors.activation_find(token=token)
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
            for a in selectors.activations_pending_of_tenant(tenant=request.tenant)
            if a.pk == partneractivation_id
        ),
        None,
    )
    if activation is None:
        raise Http404
    return _approval_page(request, activation)


def _approval_page(request: HttpRequest, activation: PartnerActivation) -> HttpResponse:
    seller = selectors.activation_seller(activation=activation)
    form = ApprovalForm(request.POST or None)
    # Declining accepts nothing, so it skips the form (its button has formnovalidate).
    if request.method == "POST" and "decline" in request.POST:
        form = ApprovalForm()
        try:
            services.activation_decline(activation=activation, actor=request.user)
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
            services.activation_approve(
                activation=activation,
                actor=request.user,
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
            "edition_name": selectors.edition_name(activation.edition),
            "form": form,
            "seller": seller,
            "terms": terms_current(seller=seller) if seller is not None else None,
        },
    )


def seller_terms_view(request: HttpRequest, seller_id: int) -> HttpResponse:
    """The current terms of service of a seller, which an approval asks to accept (terms
    are public: the page needs no sign-in and names nothing of a customer)."""
    seller = SellerEntity.objects.filter(pk=seller_id).first()
    terms = terms_current(seller=seller) if seller is not None else None
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
            services.partner_invitation_create(
                tenant=request.tenant,
                actor=request.user,
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
            "collaborations": selectors.collaborations_of_tenant(tenant=request.tenant),
            "activations": selectors.activations_pending_of_tenant(tenant=request.tenant),
            "invitations": selectors.partner_invitations_of_tenant(tenant=request.tenant),
            "support": support_contact_of_tenant(tenant=request.tenant),
        },
    )


@require_http_methods(["GET", "POST"])
@tenant_view(Role.ADMIN, "operator")
def tenant_collaboration_end_view(request: HttpRequest, collaboration_id: int) -> HttpResponse:
    collaboration = next(
        (
            c
            for c in selectors.collaborations_of_tenant(tenant=request.tenant)
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
            consequences=collaboration_end_consequences(
                other=collaboration.partner.name, partner_side=False
            ),
            confirm_label=_("End the collaboration"),
            cancel_url=reverse("tenant_partners", kwargs={"tenant_id": request.tenant.pk}),
        )
    try:
        services.collaboration_end(
            tenant=request.tenant, partner=collaboration.partner, actor=request.user
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("The collaboration with %(partner)s has ended.")
            % {"partner": collaboration.partner.name},
        )
    return redirect(reverse("tenant_partners", kwargs={"tenant_id": request.tenant.pk}))
