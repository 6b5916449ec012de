"""Order history (DESIGN §3.6): every order confirmation by date with its total; each one
opens, with its PDF. For the tenant's admins and billing users, its partners and operators."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from accounts.tenancy import BILLING_ROLES, tenant_view
from subscriptions.delivery import order_confirmation_pdf_bytes
from subscriptions.documents import order_confirmation_filename, order_document
from subscriptions.models import OrderConfirmation

ORDERS_PER_PAGE = 50
# What the list and detail pages never need: the stored PDF can be a few hundred kB.
LIST_DEFERRED = ("pdf", "seller_snapshot", "buyer_snapshot", "summary")


@require_safe
@tenant_view(*BILLING_ROLES)
def order_list_view(request: HttpRequest) -> HttpResponse:
    orders = OrderConfirmation.objects.defer(*LIST_DEFERRED).order_by("-confirmed_at", "-id")
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "subscriptions/order_list.html", {"page": page})


@require_safe
@tenant_view(*BILLING_ROLES)
def order_detail_view(request: HttpRequest, orderconfirmation_id: int) -> HttpResponse:
    order = get_object_or_404(
        OrderConfirmation.objects.defer("pdf").select_related("confirmed_by", "tenant"),
        pk=orderconfirmation_id,
    )
    return render(
        request,
        "subscriptions/order_detail.html",
        {"order": order, "document": order_document(order=order)},
    )


@require_safe
@tenant_view(*BILLING_ROLES)
def order_pdf_view(request: HttpRequest, orderconfirmation_id: int) -> HttpResponse:
    order = get_object_or_404(
        OrderConfirmation.objects.select_related("confirmed_by", "tenant"),
        pk=orderconfirmation_id,
    )
    response = HttpResponse(
        order_confirmation_pdf_bytes(order=order), content_type="application/pdf"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{order_confirmation_filename(order=order)}"'
    )
    return response
