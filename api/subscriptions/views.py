"""The subscription API (the Upgrades page's operations): the catalog, seller entities,
provisioning a tenant, the subscription, quotes and their confirmation, scheduled changes and
licences.

Status codes beside the common ones (api/schema.py):

Refusals of the services are answered by api/errors.py (with ``reason`` and ``params``):

- a quote the services refuse (`QuoteError`: nothing to change, not sold in the currency,
  not allowed in the edition, the period has ended, ...) is a 422 with code
  ``quote_refused``; seats below the users that stay active is a 422 with code
  ``too_few_seats``, the message naming how many users to deactivate and
  ``fields.users_to_deactivate`` the number;
- confirming a quote whose subscription changed since (or a quote of another day) is a 409
  ``quote_conflict``; cancelling a change that is no longer pending is a 409
  ``change_not_cancellable``; activating a user without a free licence is a 409
  ``no_free_licence``, deactivating the last active administrator a 409 ``last_admin``;
- a tenant without a subscription answers its subscription routes with 404
  ``no_subscription``.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership
from accounts.tenancy import (
    BILLING_ROLES,
    MANAGING_ROLES,
    PARTNER,
    TenantScopedAPIMixin,
    tenant_scope,
)
from api.accounts import serializers as common_serializers
from api.idempotency import idempotent
from api.permissions import IsOperator
from api.schema import (
    IDEMPOTENCY_PARAMETER,
    SIGNED_IN_ERRORS,
    TENANT_ERRORS,
    TENANT_PARAMETER,
    errors,
)
from api.subscriptions import request_serializers, selectors, serializers
from billing.models import SellerEntity
from subscriptions import services
from subscriptions.models import (
    ChangeStatus,
    OrderConfirmation,
    Quote,
    QuoteStatus,
    ScheduledChange,
    Subscription,
)
from subscriptions.provisioning import tenant_provision
from subscriptions.support import support_contact_of_tenant

QUOTE_PARAMETER = OpenApiParameter("quote_id", int, OpenApiParameter.PATH)
CHANGE_PARAMETER = OpenApiParameter("scheduledchange_id", int, OpenApiParameter.PATH)
MEMBERSHIP_PARAMETER = OpenApiParameter("membership_id", int, OpenApiParameter.PATH)


def _order_data(order: OrderConfirmation) -> dict:
    order = OrderConfirmation.objects.prefetch_related("lines").get(pk=order.pk)
    return serializers.ConfirmedOrderSerializer(order).data


# Catalog, sellers, provisioning (no tenant in the path).


class CatalogView(APIView):
    @extend_schema(
        responses={200: serializers.CatalogSerializer, **SIGNED_IN_ERRORS},
        summary="Editions, add-ons, interfaces and storage tiers with today's prices",
    )
    def get(self, request):
        return Response(serializers.CatalogSerializer(selectors.catalog_read()).data)


@extend_schema_view(
    get=extend_schema(
        responses={200: serializers.SellerSerializer(many=True), **SIGNED_IN_ERRORS},
        summary="Seller entities with their bank accounts (operators only)",
    )
)
class SellerListView(generics.ListAPIView):
    permission_classes = [IsOperator]
    serializer_class = serializers.SellerSerializer

    def get_queryset(self):
        return SellerEntity.objects.prefetch_related("bank_accounts").order_by("name", "pk")


class TenantProvisionView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=request_serializers.TenantProvisionSerializer,
        responses={
            201: serializers.TenantProvisionResponseSerializer,
            **errors(400, 401, 403, 409, 415, 422),
        },
        summary="Provision a tenant with its first subscription (operators only)",
        description=(
            "Creates the tenant, invites `admin_email` as its administrator and gives it a "
            "subscription with its activation order, all or nothing: any invalid field is a "
            "400 with per-field messages and nothing is created. `storage_gb` is in "
            "gigabytes (a tier's size or within the edition's included storage). "
            "`seller` is a seller code from GET /sellers. Idempotency keys are kept per "
            "operator."
        ),
    )
    @idempotent()
    def post(self, request):
        form = request_serializers.TenantProvisionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        provisioned = tenant_provision(
            name=data["name"],
            country=data["country"],
            business_id=data["business_id"],
            vat_number=data["vat_number"],
            language=data.get("language"),
            admin_email=data["admin_email"],
            seller=data["seller"],
            currency=data["currency"],
            edition=data["edition"],
            seats=data["seats"],
            storage_gb=data.get("storage_gb"),
            add_ons=frozenset(data.get("add_ons", [])),
            interfaces=frozenset(data.get("interfaces", [])),
            period_months=data["period_months"],
            first_period_start=data["first_period_start"],
            actor=request.user,
        )
        with tenant_scope(provisioned.tenant):
            body = {
                "tenant": provisioned.tenant,
                "subscription": selectors.subscription_read(provisioned.subscription),
                "order": _order_data(provisioned.order),
                "admin_invitation": provisioned.invitation,
            }
            data = serializers.TenantProvisionResponseSerializer(body).data
        return Response(data, status=status.HTTP_201_CREATED)


# Under /tenants/{tenant_id}/.


def _subscription_of(tenant) -> Subscription:
    subscription = (
        Subscription.objects.select_related("tenant", "seller", "edition")
        .filter(tenant=tenant)
        .first()
    )
    if subscription is None:
        raise NotFound("This tenant has no subscription.", code="no_subscription")
    return subscription


@extend_schema(parameters=[TENANT_PARAMETER])
class SubscriptionView(TenantScopedAPIMixin, APIView):
    tenant_roles = BILLING_ROLES

    @extend_schema(
        responses={200: serializers.SubscriptionSerializer, **errors(401, 403, 404)},
        summary="The subscription, its pending changes and the upcoming period's cost",
    )
    def get(self, request, tenant_id):
        subscription = _subscription_of(self.tenant)
        return Response(
            serializers.SubscriptionSerializer(selectors.subscription_read(subscription)).data
        )


@extend_schema(parameters=[TENANT_PARAMETER])
class SupportContactView(TenantScopedAPIMixin, APIView):
    tenant_roles = BILLING_ROLES

    @extend_schema(
        responses={200: serializers.SupportContactSerializer, **errors(401, 403, 404)},
        summary="Who gives the company support: its partner, or else the seller",
        description=(
            "The partner of the company's active collaboration (`is_partner` true) or, "
            "without one, the seller of its subscription. 404 `no_subscription` when it has "
            "neither."
        ),
    )
    def get(self, request, tenant_id):
        contact = support_contact_of_tenant(tenant=self.tenant)
        if contact is None:
            _subscription_of(self.tenant)  # raises the usual 404 no_subscription
        return Response(serializers.SupportContactSerializer(contact).data)


@extend_schema(parameters=[TENANT_PARAMETER])
class QuoteListView(TenantScopedAPIMixin, APIView):
    tenant_roles = MANAGING_ROLES

    @extend_schema(
        request=request_serializers.QuoteRequestSerializer,
        responses={
            201: serializers.QuoteSerializer,
            **errors(400, 401, 403, 404, 415, 422),
        },
        summary="Quote a change: the Agreement page's figures",
        description=(
            "Fields left out keep their planned value (today's, with the scheduled changes "
            "applied); `add_ons` and `interfaces` are the whole sets wanted. A change the "
            "rules refuse is a 422 (`quote_refused`, or `too_few_seats` with "
            "`fields.users_to_deactivate`). A quote can be confirmed on the day it was made."
        ),
    )
    def post(self, request, tenant_id):
        subscription = _subscription_of(self.tenant)
        form = request_serializers.QuoteRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        desired = services.Desired(
            edition=data.get("edition"),
            seats=data.get("seats"),
            storage_gb=data.get("storage_gb"),
            add_ons=frozenset(data["add_ons"]) if "add_ons" in data else None,
            interfaces=frozenset(data["interfaces"]) if "interfaces" in data else None,
            terminate=data["terminate"],
        )
        quote = services.quote_create(
            subscription=subscription,
            desired=desired,
            actor=request.user,
            downgrade_allowed=self.tenant_role != PARTNER,
        )
        return Response(
            serializers.QuoteSerializer(selectors.quote_read(quote)).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(parameters=[TENANT_PARAMETER, QUOTE_PARAMETER])
class QuoteDetailView(TenantScopedAPIMixin, APIView):
    tenant_roles = MANAGING_ROLES

    @extend_schema(
        responses={200: serializers.QuoteSerializer, **TENANT_ERRORS},
        summary="A quote as it was made",
    )
    def get(self, request, tenant_id, quote_id):
        quote = get_object_or_404(Quote.objects.all(), pk=quote_id)
        return Response(serializers.QuoteSerializer(selectors.quote_read(quote)).data)


@extend_schema(parameters=[TENANT_PARAMETER, QUOTE_PARAMETER])
class QuoteConfirmView(TenantScopedAPIMixin, APIView):
    tenant_roles = MANAGING_ROLES

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=None,
        responses={
            201: serializers.ConfirmedOrderSerializer,
            200: serializers.ConfirmedOrderSerializer,
            **errors(400, 401, 403, 404, 409, 415, 422),
        },
        summary="Confirm a quote: apply the increases, schedule the decreases, order",
        description=(
            "201 with the new order confirmation. A quote that is already confirmed, and a "
            "replay with the same `Idempotency-Key`, answer 200 with the same order (no second "
            "order): only the call that created the order answers 201. 409 `quote_conflict` "
            "when the subscription changed after the quote was made, or the quote is of "
            "another day: make a new quote."
        ),
    )
    @idempotent(replay_created_as_ok=True)
    def post(self, request, tenant_id, quote_id):
        quote = get_object_or_404(Quote.objects.all(), pk=quote_id)
        was_confirmed = quote.status == QuoteStatus.CONFIRMED
        order = services.quote_confirm(quote=quote, actor=request.user)
        return Response(
            _order_data(order),
            status=status.HTTP_200_OK if was_confirmed else status.HTTP_201_CREATED,
        )


class _ReadBillingWriteManaging:
    """Reading is for billing roles too; changing is for managing roles."""

    @property
    def tenant_roles(self):
        return BILLING_ROLES if self.request.method in SAFE_METHODS else MANAGING_ROLES


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: serializers.ScheduledChangeSerializer(many=True), **errors(401, 403, 404)},
        summary="Pending scheduled changes (decreases and termination)",
    )
)
class ScheduledChangeListView(
    _ReadBillingWriteManaging, TenantScopedAPIMixin, generics.ListAPIView
):
    serializer_class = serializers.ScheduledChangeSerializer

    def get_queryset(self):
        return ScheduledChange.objects.filter(status=ChangeStatus.SCHEDULED).order_by(
            "effective_date", "pk"
        )


@extend_schema(parameters=[TENANT_PARAMETER, CHANGE_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: serializers.ScheduledChangeSerializer, **errors(401, 403, 404)},
        summary="A scheduled change",
    )
)
class ScheduledChangeDetailView(
    _ReadBillingWriteManaging, TenantScopedAPIMixin, generics.RetrieveAPIView
):
    serializer_class = serializers.ScheduledChangeSerializer
    lookup_url_kwarg = "scheduledchange_id"

    def get_queryset(self):
        return ScheduledChange.objects.all()

    @extend_schema(
        responses={204: None, **errors(401, 403, 404, 409)},
        summary="Cancel a scheduled change before it takes effect",
        description="409 `change_not_cancellable` when it is no longer pending or took effect.",
    )
    def delete(self, request, tenant_id, scheduledchange_id):
        change = get_object_or_404(self.get_queryset(), pk=scheduledchange_id)
        services.scheduled_change_cancel(change=change, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _LicenceView(TenantScopedAPIMixin, APIView):
    tenant_roles = MANAGING_ROLES
    licence_action = staticmethod(services.licence_activate)

    def post(self, request, tenant_id, membership_id):
        membership = get_object_or_404(
            Membership.objects.select_related("user", "tenant"), pk=membership_id
        )
        membership = self.licence_action(membership=membership, actor=request.user)
        membership = Membership.objects.select_related("user").get(pk=membership.pk)
        return Response(common_serializers.MembershipSerializer(membership).data)


LICENCE_RESPONSES = {
    200: common_serializers.MembershipSerializer,
    **errors(401, 403, 404, 409, 415),
}


@extend_schema(parameters=[TENANT_PARAMETER, MEMBERSHIP_PARAMETER])
@extend_schema_view(
    post=extend_schema(
        request=None,
        responses=LICENCE_RESPONSES,
        summary="Activate a user: it takes a free licence",
        description="409 `no_free_licence` when every seat is in use (or will be, after a "
        "scheduled seat decrease).",
    )
)
class LicenceActivateView(_LicenceView):
    licence_action = staticmethod(services.licence_activate)


@extend_schema(parameters=[TENANT_PARAMETER, MEMBERSHIP_PARAMETER])
@extend_schema_view(
    post=extend_schema(
        request=None,
        responses=LICENCE_RESPONSES,
        summary="Deactivate a user: its licence becomes free",
        description="409 `last_admin` for the last active administrator.",
    )
)
class LicenceDeactivateView(_LicenceView):
    licence_action = staticmethod(services.licence_deactivate)
