from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login

from accounts import services, twofactor
from accounts.forms import InvitationAcceptForm, InvitationForm, LoginForm, OtpForm, RoleForm
from accounts.hooks import page_sections_read
from accounts.locale_format import datetime_format
from accounts.models import Invitation, Membership, User
from accounts.tenancy import (
    MANAGING_ROLES,
    partners_for_user,
    tenant_scope,
    tenant_view,
    tenants_for_user,
)
from severa import clock
from severa.confirm import confirmation_page, confirmed
from severa.paging import page_of

_PENDING_USER = "accounts.pending_user_id"
_PENDING_NEXT = "accounts.pending_next"
_BACKEND = "accounts.request_cache.CachedModelBackend"


def lockout_response(request, credentials, *args, **kwargs) -> HttpResponse:
    """django-axes calls this once a username + IP pair is locked out."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {
                "error": {
                    "status": 429,
                    "code": "locked_out",
                    "message": "Too many failed sign-ins. Try again later.",
                }
            },
            status=429,
        )
    return render(request, "accounts/locked_out.html", status=429)


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _complete_login(request: HttpRequest, user: User, device=None) -> HttpResponse:
    next_url = request.session.pop(_PENDING_NEXT, "") or _safe_next(request)
    request.session.pop(_PENDING_USER, None)
    services.login_record(user=user)
    login(request, user, backend=_BACKEND)
    if device is not None:
        otp_login(request, device)
    return redirect(next_url or "dashboard")


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is None:
            form.add_error(None, _("The username or password is wrong."))
        else:
            device = twofactor.confirmed_device(user)
            if device is None:
                return _complete_login(request, user)
            request.session.cycle_key()
            request.session[_PENDING_USER] = user.pk
            request.session[_PENDING_NEXT] = _safe_next(request)
            return redirect("accounts:login_otp")
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request)})


def login_otp_view(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(_PENDING_USER)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("accounts:login")
    device = twofactor.confirmed_device(user)
    if device is None:
        return redirect("accounts:login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.device_verify(device, form.cleaned_data["code"]):
            return _complete_login(request, user, device)
        form.add_error("code", _("The code is not valid. Check your authenticator's clock."))
    return render(request, "accounts/login_otp.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


@login_required
def two_factor_setup_view(request: HttpRequest) -> HttpResponse:
    import qrcode
    import qrcode.image.svg

    if twofactor.confirmed_device(request.user) is not None and request.user.is_verified():
        return redirect("accounts:account")
    device = None
    if request.method == "POST":
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
        form = OtpForm(request.POST)
        if device is not None and form.is_valid():
            if twofactor.device_verify(device, form.cleaned_data["code"]):
                twofactor.device_confirm(device=device)
                otp_login(request, device)
                messages.success(request, _("Two-factor sign-in is on."))
                return redirect("dashboard")
            form.add_error("code", _("The code is not valid. Try the next one."))
    else:
        form = OtpForm()
    if device is None:
        device = twofactor.device_start_enrolment(request.user)
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    from base64 import b32encode

    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": image.to_string(encoding="unicode"),
            "secret": b32encode(device.bin_key).decode(),
        },
    )


@login_required
def account_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/account.html",
        {
            "has_two_factor": twofactor.confirmed_device(request.user) is not None,
            "api_tokens": services.api_tokens_of_user(user=request.user),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def account_token_revoke_view(request: HttpRequest, apitoken_id: int) -> HttpResponse:
    if not confirmed(request):
        token = next(
            (t for t in services.api_tokens_of_user(user=request.user) if t.pk == apitoken_id), None
        )
        if token is None:
            raise Http404
        return confirmation_page(
            request,
            title=_("Revoke the API token %(prefix)s…?") % {"prefix": token.prefix},
            consequences=[
                _(
                    "From now on, %(time)s, every request made with this token is refused: "
                    "scripts and systems using it stop working."
                )
                % {"time": datetime_format(clock.now())},
                _("A revoked token cannot be restored; create a new one if it is still needed."),
            ],
            confirm_label=_("Revoke the token"),
            cancel_url=reverse("accounts:account"),
        )
    token = services.api_token_revoke(user=request.user, token_id=apitoken_id)
    if token is None:
        raise Http404
    messages.success(request, _("The API token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("accounts:account")


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    accesses = tenants_for_user(request.user)
    partners = partners_for_user(request.user)
    return render(request, "dashboard.html", {"accesses": accesses, "partners": partners})


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_find(token=token)
    if invitation is None:
        raise Http404(_("This invitation is unknown, used or expired."))
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST":
        with tenant_scope(invitation.tenant):
            try:
                if request.user.is_authenticated:
                    services.invitation_accept(invitation=invitation, user=request.user)
                elif form.is_valid():
                    user = services.invitation_accept(invitation=invitation, **form.cleaned_data)
                    login(request, user, backend=_BACKEND)
                else:
                    raise ValidationError(_("Please correct the errors below."))
            except ValidationError as error:
                for message in error.messages:
                    if request.user.is_authenticated:
                        # The form (for a new account) is not used: the refusal stands alone.
                        messages.error(request, message)
                    else:
                        form.add_error(None, message)
            else:
                joined = Membership.objects.filter(
                    tenant=invitation.tenant, user__email__iexact=invitation.email
                ).first()
                if joined is not None and not joined.is_active:
                    messages.warning(
                        request,
                        _(
                            "You joined %(tenant)s, but all its licences are in use: its "
                            "administrators have been told, and you can use it once one of "
                            "them activates you."
                        )
                        % {"tenant": invitation.tenant.name},
                    )
                else:
                    messages.success(
                        request, _("Welcome to %(tenant)s.") % {"tenant": invitation.tenant.name}
                    )
                # A partner activation's e-mail sends the new administrator on to the
                # approval page; only paths on this site are followed.
                next_path = request.GET.get("next", "")
                if next_path and url_has_allowed_host_and_scheme(
                    next_path, allowed_hosts={request.get_host()}, require_https=False
                ):
                    return redirect(next_path)
                return redirect("dashboard")
    return render(
        request, "accounts/invitation_accept.html", {"invitation": invitation, "form": form}
    )


@tenant_view()
def tenant_home_view(request: HttpRequest) -> HttpResponse:
    """The company overview: the subscription, open invoices and integrations at a glance,
    each for the roles that may open it (the apps that own them add them: accounts.hooks)."""
    context = page_sections_read(page="tenant_home", request=request)
    return render(request, "tenant/home.html", context)


@tenant_view(*MANAGING_ROLES)
def users_view(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                tenant=request.tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("The invitation is on its way."))
            return redirect("tenant_users", tenant_id=request.tenant.pk)
    memberships = page_of(
        request,
        Membership.objects.select_related("user").order_by("user__username", "pk"),
    )
    invitations = Invitation.objects.filter(accepted_at=None, revoked_at=None)
    return render(
        request,
        "tenant/users.html",
        {
            "memberships": memberships,
            "invitations": invitations,
            "form": form,
            "role_form": RoleForm(),
            "licence_refused": request.session.pop("licence_refused", False),
            **page_sections_read(page="tenant_users", request=request),
        },
    )


@require_POST
@tenant_view(*MANAGING_ROLES)
def membership_role_view(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = get_object_or_404(Membership, pk=membership_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_set_role(
                membership=membership, role=form.cleaned_data["role"], actor=request.user
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The role is changed."))
    return redirect("tenant_users", tenant_id=request.tenant.pk)


@require_POST
@tenant_view(*MANAGING_ROLES)
def invitation_revoke_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, accepted_at=None)
    services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, _("The invitation is withdrawn."))
    return redirect("tenant_users", tenant_id=request.tenant.pk)


@require_safe
def help_view(request: HttpRequest) -> HttpResponse:
    """Public help: how to tell our e-mails from fake ones (no sign-in needed)."""
    return render(request, "accounts/help.html")
