"""Billing details and billing contacts under /api/v1/tenants/{tenant_id}/: for the tenant's
admins and billing users, its partners and operators, like the pages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.tenancy import BILLING_ROLES, TenantScopedAPIMixin
from api.billing.serializers import (
    BillingContactCreateSerializer,
    BillingContactSerializer,
    BillingDetailsSerializer,
    SellerChangeReviewSerializer,
)
from api.idempotency import idempotent
from api.schema import IDEMPOTENCY_PARAMETER, TENANT_ERRORS, TENANT_PARAMETER, errors
from billing.contacts import (
    billing_contact_add,
    billing_contact_remove,
    billing_contact_user_find,
    billing_contacts_list,
)
from billing.details import billing_details_get, billing_details_update, billing_details_values
from billing.seller_change import seller_change_review_dismiss, seller_change_review_pending


def _seller_change(tenant) -> dict:
    item = seller_change_review_pending(tenant=tenant)
    return {
        "review_pending": item is not None,
        "to_seller": item.migration.to_seller.name if item else None,
        "switched_on": item.migration.cohort_start if item else None,
    }


@extend_schema(parameters=[TENANT_PARAMETER])
class SellerChangeReviewView(TenantScopedAPIMixin, APIView):
    """After a seller change the company's admins are asked to check the number of active
    licences and the company details, until one of them dismisses it."""

    tenant_roles = frozenset({Role.ADMIN})

    @extend_schema(
        responses={200: SellerChangeReviewSerializer, **TENANT_ERRORS},
        summary="Whether the prompt to review licences and details after a seller change shows",
    )
    def get(self, request, tenant_id):
        return Response(SellerChangeReviewSerializer(_seller_change(self.tenant)).data)

    @extend_schema(
        request=None,
        responses={200: SellerChangeReviewSerializer, **TENANT_ERRORS},
        summary="Dismiss the prompt (dismissing again changes nothing)",
    )
    def post(self, request, tenant_id):
        seller_change_review_dismiss(tenant=self.tenant, actor=request.user)
        return Response(SellerChangeReviewSerializer(_seller_change(self.tenant)).data)


@extend_schema(parameters=[TENANT_PARAMETER])
class BillingDetailsView(TenantScopedAPIMixin, APIView):
    """The tenant's billing details. Identifiers are checked for the tenant's country with
    python-stdnum; each refusal says why (checksum, length, format, country)."""

    tenant_roles = BILLING_ROLES

    @extend_schema(
        responses={200: BillingDetailsSerializer, **TENANT_ERRORS},
        summary="The billing details: invoice address, business id, VAT number, e-invoicing",
    )
    def get(self, request, tenant_id):
        details = billing_details_get(tenant=self.tenant)
        return Response(BillingDetailsSerializer(billing_details_values(details=details)).data)

    @extend_schema(
        request=BillingDetailsSerializer,
        responses={200: BillingDetailsSerializer, **errors(400, 401, 403, 404, 415)},
        summary="Replace the billing details; 400 with a message per wrong field saves nothing",
    )
    def put(self, request, tenant_id):
        form = BillingDetailsSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        details = billing_details_update(
            tenant=self.tenant, data=form.validated_data, actor=request.user
        )
        return Response(BillingDetailsSerializer(billing_details_values(details=details)).data)


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: BillingContactSerializer(many=True), **TENANT_ERRORS},
        summary="The billing contacts, oldest first",
    )
)
class BillingContactListView(TenantScopedAPIMixin, generics.ListAPIView):
    """The people who get the tenant's invoices and order confirmations by e-mail."""

    serializer_class = BillingContactSerializer
    tenant_roles = BILLING_ROLES

    def get_queryset(self):
        return billing_contacts_list(tenant=self.tenant).order_by("created_at", "pk")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=BillingContactCreateSerializer,
        responses={201: BillingContactSerializer, **errors(400, 401, 403, 404, 409, 415, 422)},
        summary="Add a billing contact: a user of the tenant, or an e-mail address and a name",
    )
    @idempotent()
    def post(self, request, tenant_id):
        form = BillingContactCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user_id = form.validated_data.get("user_id")
        user = (
            billing_contact_user_find(tenant=self.tenant, user_id=user_id)
            if user_id is not None
            else None
        )
        contact = billing_contact_add(
            tenant=self.tenant,
            actor=request.user,
            user=user,
            email=form.validated_data.get("email", ""),
            name=form.validated_data.get("name", ""),
        )
        return Response(BillingContactSerializer(contact).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        responses={200: BillingContactSerializer, **TENANT_ERRORS}, summary="One billing contact"
    )
)
class BillingContactDetailView(TenantScopedAPIMixin, generics.RetrieveDestroyAPIView):
    """One billing contact. The last one cannot be removed: a tenant keeps at least one."""

    serializer_class = BillingContactSerializer
    tenant_roles = BILLING_ROLES
    lookup_url_kwarg = "billingcontact_id"

    def get_queryset(self):
        return billing_contacts_list(tenant=self.tenant)

    @extend_schema(
        responses={204: None, **errors(401, 403, 404, 409)},
        summary="Remove a billing contact; 409 when it is the last one",
    )
    def delete(self, request, tenant_id, billingcontact_id):
        contact = get_object_or_404(self.get_queryset(), pk=billingcontact_id)
        billing_contact_remove(contact=contact, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
