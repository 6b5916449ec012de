"""Upgrades: the subscription, Adjust features, Change edition, the Agreement page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.tenancy import MANAGING_ROLES, PARTNER, tenant_view
from severa import clock
from severa.errors import refusal_show
from severa.line_texts import line_text_of, vat_note_text
from severa.vat import VAT_NOTE_KINDS
from subscriptions.catalog import price_book
from subscriptions.forms import AdjustForm, EditionForm
from subscriptions.models import (
    ChangeKind,
    Edition,
    Quote,
    QuoteStatus,
    ScheduledChange,
    Subscription,
)
from subscriptions.pricebook import PriceBook, QuoteError
from subscriptions.quotes import SubscriptionState
from subscriptions.selectors import (
    SubscriptionSnapshot,
    planned_state,
    quote_of,
    subscription_snapshot,
    upcoming_period_price_of,
)
from subscriptions.services import (
    Desired,
    QuoteConflictError,
    quote_confirm,
    quote_content,
    quote_create,
    quote_remake,
    scheduled_change_cancel,
)

UPGRADE_ROLES = MANAGING_ROLES


def _subscription(request: HttpRequest) -> Subscription | None:
    return subscription_snapshot(tenant=request.tenant).subscription


def _require_snapshot(request: HttpRequest) -> SubscriptionSnapshot:
    snapshot = subscription_snapshot(tenant=request.tenant)
    if snapshot.subscription is None:
        raise Http404("no subscription")
    return snapshot


@dataclass(frozen=True)
class Feature:
    code: str
    name: str
    price: object
    per_seat: bool
    selected: bool
    included: bool
    allowed: bool
    note: str


@tenant_view(*UPGRADE_ROLES)
def upgrades_view(request: HttpRequest) -> HttpResponse:
    snapshot = subscription_snapshot(tenant=request.tenant)
    subscription = snapshot.subscription
    if subscription is None:
        return render(request, "tenant/upgrades.html", {"editions": Edition.objects.all()})
    prices = price_book(currency=subscription.currency, on=clock.today())
    names = {a.code: a.name for a in prices.add_ons} | {i.code: i.name for i in prices.interfaces}
    changes = snapshot.changes
    return render(
        request,
        "subscriptions/upgrades.html",
        {
            "subscription": subscription,
            "active_users": snapshot.active_users,
            "add_ons": [names.get(code, code) for code in subscription.add_ons],
            "interfaces": [names.get(code, code) for code in subscription.interfaces],
            "changes": changes,
            "terminating": any(change.kind == ChangeKind.TERMINATION for change in changes),
            "upcoming": upcoming_period_price_of(tenant=request.tenant),
            "today": clock.today(),
            "seller": subscription.seller,
        },
    )


def _features(
    prices: PriceBook, *, edition: str, add_ons: set[str], interfaces: set[str]
) -> tuple[list[Feature], list[Feature]]:
    edition_names = {e.code: e.name for e in prices.editions}
    add_on_rows = []
    for add_on in prices.add_ons:
        included = prices.add_on_included(add_on=add_on.code, edition=edition)
        allowed = prices.add_on_allowed(add_on=add_on.code, edition=edition)
        if included:
            note = _("Included in your edition")
        elif not allowed:
            note = _("Requires the %(edition)s edition") % {
                "edition": edition_names[add_on.minimum_edition]
            }
        else:
            note = ""
        add_on_rows.append(
            Feature(
                add_on.code,
                add_on.name,
                add_on.price_per_month,
                add_on.is_per_seat,
                add_on.code in add_ons,
                included,
                allowed,
                note,
            )
        )
    interface_rows = [
        Feature(i.code, i.name, i.price_per_month, False, i.code in interfaces, False, True, "")
        for i in prices.interfaces
    ]
    return add_on_rows, interface_rows


def _quote_or_error(
    request: HttpRequest, snapshot: SubscriptionSnapshot, desired: Desired
) -> HttpResponse | None:
    try:
        quote = quote_create(
            subscription=snapshot.subscription,
            desired=desired,
            actor=request.user,
            downgrade_allowed=request.tenant_role != PARTNER,
            snapshot=snapshot,
        )
    except QuoteError as error:
        refusal_show(request, error)
        return None
    return redirect("tenant_agreement", tenant_id=request.tenant.pk, quote_id=quote.pk)


def _adjust_desired(form: AdjustForm, planned: SubscriptionState, prices: PriceBook) -> Desired:
    """What a valid Adjust form asks for."""
    return Desired(
        seats=form.cleaned_data["seats"],
        storage_gb=prices.storage_asked(
            chosen=form.cleaned_data["storage_gb"],
            planned=planned.storage_gb,
            edition=planned.edition_code,
        ),
        add_ons=frozenset(form.cleaned_data["add_ons"]),
        interfaces=frozenset(form.cleaned_data["interfaces"]),
    )


def _adjust_estimate(
    snapshot: SubscriptionSnapshot, form: AdjustForm, planned: SubscriptionState, prices: PriceBook
) -> tuple[dict | None, str]:
    """The Agreement's figures for the choices on the Adjust page so far, priced as *Next*
    would price them but kept nowhere; or a note on why there are none yet."""
    if not form.is_bound:
        return None, _("Change seats, storage, add-ons or interfaces to see what it costs.")
    if not form.is_valid():
        return None, _("Correct the marked fields to see what the change costs.")
    try:
        content = quote_content(
            subscription=snapshot.subscription,
            desired=_adjust_desired(form, planned, prices),
            today=clock.today(),
            snapshot=snapshot,
        )
    except QuoteError as error:
        return None, str(error)
    return agreement_display(content), ""


@tenant_view(*UPGRADE_ROLES)
def adjust_view(request: HttpRequest) -> HttpResponse:
    """Seats, storage, add-ons and interfaces; Select/Deselect re-renders the form, Next
    makes the quote and opens the Agreement page."""
    snapshot = _require_snapshot(request)
    subscription = snapshot.subscription
    prices = price_book(currency=subscription.currency, on=clock.today())
    planned, terminating = planned_state(subscription=subscription, changes=snapshot.changes)
    included_gb = prices.edition(planned.edition_code).included_storage_gb
    initial = {
        "seats": planned.seats,
        "storage_gb": max(planned.storage_gb, included_gb),
        "add_ons": sorted(planned.add_ons),
        "interfaces": sorted(planned.interfaces),
    }
    data = request.POST if request.method == "POST" else None
    form = AdjustForm(data, initial=initial, prices=prices, edition=planned.edition_code)
    selected_add_ons, selected_interfaces = set(planned.add_ons), set(planned.interfaces)
    if data is not None:
        selected_add_ons = set(data.getlist("add_ons"))
        selected_interfaces = set(data.getlist("interfaces"))
        toggle = data.get("toggle", "")
        kind, _sep, code = toggle.partition(":")
        target = {"add_on": selected_add_ons, "interface": selected_interfaces}.get(kind)
        if target is not None:
            target.symmetric_difference_update({code})
            # Re-render with the new selection, keeping what was typed.
            form = AdjustForm(
                {
                    "seats": data.get("seats"),
                    "storage_gb": data.get("storage_gb"),
                    "add_ons": sorted(selected_add_ons),
                    "interfaces": sorted(selected_interfaces),
                },
                prices=prices,
                edition=planned.edition_code,
            )
            form.is_valid()
        elif data.get("estimate"):
            form.is_valid()  # only the estimate below, with the errors at their fields
        elif form.is_valid():
            response = _quote_or_error(request, snapshot, _adjust_desired(form, planned, prices))
            if response is not None:
                return response
    add_on_rows, interface_rows = _features(
        prices,
        edition=planned.edition_code,
        add_ons=selected_add_ons,
        interfaces=selected_interfaces,
    )
    estimate, estimate_note = _adjust_estimate(snapshot, form, planned, prices)
    return render(
        request,
        "subscriptions/adjust.html",
        {
            "subscription": subscription,
            "form": form,
            "estimate": estimate,
            "estimate_note": estimate_note,
            "add_on_rows": add_on_rows,
            "interface_rows": interface_rows,
            "selected_add_ons": sorted(selected_add_ons),
            "selected_interfaces": sorted(selected_interfaces),
            "seat_price": prices.edition(planned.edition_code).price_per_seat_month,
            "terminating": terminating,
            "active_users": snapshot.active_users,
        },
    )


@tenant_view(*UPGRADE_ROLES)
def change_edition_view(request: HttpRequest) -> HttpResponse:
    snapshot = _require_snapshot(request)
    subscription = snapshot.subscription
    prices = price_book(currency=subscription.currency, on=clock.today())
    planned, _terminating = planned_state(subscription=subscription, changes=snapshot.changes)
    form = EditionForm(
        request.POST if request.method == "POST" else None,
        initial={"edition": planned.edition_code},
        prices=prices,
    )
    if request.method == "POST" and form.is_valid():
        response = _quote_or_error(request, snapshot, Desired(edition=form.cleaned_data["edition"]))
        if response is not None:
            return response
    return render(
        request,
        "subscriptions/change_edition.html",
        {
            "subscription": subscription,
            "form": form,
            "editions": prices.editions,
            "planned_edition": planned.edition_code,
            "seats": planned.seats,
        },
    )


@require_POST
@tenant_view(*UPGRADE_ROLES)
def terminate_view(request: HttpRequest) -> HttpResponse:
    response = _quote_or_error(request, _require_snapshot(request), Desired(terminate=True))
    return response or redirect("tenant_upgrades", tenant_id=request.tenant.pk)


def _agreement_renewed(
    request: HttpRequest, quote: Quote, *, refused: bool = False
) -> HttpResponse:
    """A new Agreement for the same choices, priced as the subscription is now."""
    try:
        renewed = quote_remake(
            quote=quote, actor=request.user, downgrade_allowed=request.tenant_role != PARTNER
        )
    except QuoteError as error:
        messages.error(
            request,
            _(
                "The subscription has changed or the day has passed since this Agreement was "
                "made, and its choices make no Agreement now: %(reason)s"
            )
            % {"reason": error},
        )
        return redirect("tenant_upgrades", tenant_id=request.tenant.pk)
    if refused:
        messages.warning(
            request,
            _(
                "This Agreement could not be confirmed: the subscription has changed or the day "
                "has passed since it was made. Here is a new Agreement for the same choices with "
                "today's figures; check it and confirm it."
            ),
        )
    return redirect("tenant_agreement", tenant_id=request.tenant.pk, quote_id=renewed.pk)


@tenant_view(*UPGRADE_ROLES)
def agreement_view(request: HttpRequest, quote_id: int) -> HttpResponse:
    """The Agreement page: each line, the scheduled changes, the next full period; Confirm."""
    quote = quote_of(tenant=request.tenant, quote_id=quote_id)
    if quote is None:
        raise Http404("no such quote")
    if request.method == "POST":
        if request.POST.get("renew"):
            return _agreement_renewed(request, quote)
        try:
            order = quote_confirm(quote=quote, actor=request.user)
        except QuoteConflictError:
            return _agreement_renewed(request, quote, refused=True)
        messages.success(
            request,
            _(
                "Order confirmation %(number)s is confirmed. It is on its way to your billing "
                "contacts as a PDF."
            )
            % {"number": order.number},
        )
        return redirect("tenant_order_detail", request.tenant.pk, order.pk)
    if quote.status == QuoteStatus.CONFIRMED:
        return redirect("tenant_order_detail", request.tenant.pk, quote.order.pk)
    subscription = _subscription(request)
    if subscription is None or subscription.pk != quote.subscription_id:
        subscription = Subscription.objects.select_related("seller").get(pk=quote.subscription_id)
    stale = (
        quote.stale_reason(subscription_version=subscription.version, today=clock.today())
        is not None
    )
    return render(
        request,
        "subscriptions/agreement.html",
        {
            "quote": quote,
            "content": agreement_display(quote.content),
            "stale": stale,
            "seller": subscription.seller,
        },
    )


def _line_display(line: dict) -> dict:
    return line | {
        "description": line_text_of(line),
        "period_start": date.fromisoformat(line["period_start"]),
        "period_end": date.fromisoformat(line["period_end"]),
        **{key: Decimal(line[key]) for key in ("unit_price", "net", "vat_rate", "vat", "total")},
    }


def _change_display(change: dict) -> dict:
    return change | {
        "description": line_text_of(change),
        "effective_date": date.fromisoformat(change["effective_date"]),
    }


def agreement_display(content: dict) -> dict:
    """A quote's stored figures with dates and amounts as objects the templates format, and
    its texts in the reader's language (nothing is issued yet)."""
    following = content.get("next_period")
    vat = content["vat"]
    return content | {
        "immediate_lines": [_line_display(line) for line in content["immediate_lines"]],
        "immediate": {key: Decimal(v) for key, v in content["immediate"].items()},
        "scheduled": [_change_display(change) for change in content["scheduled"]],
        "superseded": [_change_display(change) for change in content.get("superseded", [])],
        "next_period": following
        and following
        | {
            "start": date.fromisoformat(following["start"]),
            "end": date.fromisoformat(following["end"]),
            "lines": [_line_display(line) for line in following["lines"]],
            **{key: Decimal(following[key]) for key in ("net", "vat_amount", "total")},
        },
        "vat": vat
        | {
            "note": vat_note_text(
                vat.get("note_kind") or VAT_NOTE_KINDS.get(vat["note"], ""), default=vat["note"]
            )
        },
        "vat_rate": Decimal(vat["rate"]),
    }


@require_POST
@tenant_view(*UPGRADE_ROLES)
def scheduled_change_cancel_view(request: HttpRequest, scheduledchange_id: int) -> HttpResponse:
    change = get_object_or_404(ScheduledChange, pk=scheduledchange_id)
    try:
        scheduled_change_cancel(change=change, actor=request.user)
    except QuoteError as error:
        refusal_show(request, error)
    else:
        messages.success(request, _("Cancelled: %(change)s.") % {"change": change.text})
    return redirect("tenant_upgrades", tenant_id=request.tenant.pk)
