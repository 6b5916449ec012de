"""The partner API (DESIGN §3.8): partner organisations (operators), a partner's customers,
engagements, activations, customers' invitations, and ending a collaboration.

Routes under ``/partners/{partner_id}/`` answer 404 to anyone who is not a user of that
partner (operators excepted), and a customer the partner does not collaborate with is a 404
like any foreign id. The customer's own data stays under ``/tenants/{tenant_id}/``, which a
partner user's token reaches for the customers with an active collaboration.

A partner's consolidated invoices under ``/partners/{partner_id}/invoices`` are the invoices
the partner gets for the customers whose subscriptions it pays, each with its lines grouped
by customer; read-only (payments and credit notes are the operators', on the operator
invoice pages).
"""

from __future__ import annotations

from contextlib import ExitStack

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Partner, Role
from accounts.tenancy import OPERATOR, partner_access, tenant_access
from api.errors import not_found
from api.idempotency import idempotent
from api.invoices.serializers import InvoiceListSerializer, InvoiceQuerySerializer
from api.invoices.views import invoices_filtered
from api.partners import serializers
from api.permissions import IsOperator
from api.schema import (
    IDEMPOTENCY_PARAMETER,
    INVOICE_PARAMETER,
    PARTNER_PARAMETER,
    TENANT_PARAMETER,
    errors,
)
from billing.models import Invoice, InvoiceLine, Payment
from billing.scoping import partner_scope
from partners import services as partners
from partners.models import PartnerActivation
from partners.selectors import engagements_of_partner

INVITATION_PARAMETER = OpenApiParameter("partnerinvitation_id", int, OpenApiParameter.PATH)
PARTNER_ERRORS = errors(401, 403, 404)


class PartnerAPIMixin:
    """Resolve ``partner_id`` with ``partner_access`` (404 when the caller is not its user)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.partner = partner_access(user=request.user, partner_id=kwargs.get("partner_id"))


class PartnerScopedAPIMixin(PartnerAPIMixin):
    """Resolve the partner with `partner_access` (404 when the user does not act for it)
    and run the handler inside the partner's scope."""

    def dispatch(self, request, *args, **kwargs):
        self._partner_scope = ExitStack()
        with self._partner_scope:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._partner_scope.enter_context(partner_scope(self.partner))


class PartnerCreateView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=serializers.PartnerCreateSerializer,
        responses={201: serializers.PartnerCreatedSerializer, **errors(400, 401, 403, 409, 415)},
        summary="Create a partner organisation with its first user (operators only)",
        description=(
            "The user gets an e-mail with a link to set a password. An e-mail address that "
            "already has an account is a 400."
        ),
    )
    @idempotent()
    def post(self, request):
        form = serializers.PartnerCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        partner, user = partners.partner_create(**form.validated_data, actor=request.user)
        body = {"partner": partner, "user_id": user.pk, "user_email": user.email}
        return Response(
            serializers.PartnerCreatedSerializer(body).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[PARTNER_PARAMETER])
class CustomerListView(PartnerAPIMixin, APIView):
    @extend_schema(
        responses={200: serializers.PartnerCustomerSerializer(many=True), **errors(401, 403, 404)},
        summary="The partner's customers: active and waiting collaborations",
    )
    def get(self, request, partner_id):
        customers = partners.partner_customers(partner=self.partner)
        return Response(serializers.PartnerCustomerSerializer(customers, many=True).data)


@extend_schema(parameters=[PARTNER_PARAMETER, TENANT_PARAMETER])
class CustomerDetailView(PartnerAPIMixin, APIView):
    @extend_schema(
        responses={200: serializers.PartnerCustomerSerializer, **errors(401, 403, 404)},
        summary="One customer of the partner",
    )
    def get(self, request, partner_id, tenant_id):
        customer = partners.partner_customer(partner=self.partner, tenant_id=tenant_id)
        return Response(serializers.PartnerCustomerSerializer(customer).data)

    @extend_schema(
        responses={200: serializers.CollaborationSerializer, **errors(401, 403, 404)},
        summary="End the collaboration: the partner loses access at once",
    )
    def delete(self, request, partner_id, tenant_id):
        customer = partners.partner_customer(partner=self.partner, tenant_id=tenant_id)
        collaboration = partners.collaboration_end(
            tenant=customer.tenant, partner=self.partner, actor=request.user
        )
        return Response(serializers.CollaborationSerializer(collaboration).data)


@extend_schema(parameters=[PARTNER_PARAMETER])
class EngagementListView(PartnerAPIMixin, APIView):
    @extend_schema(
        responses={200: serializers.EngagementSerializer(many=True), **errors(401, 403, 404)},
        summary="The partner's engagements (tasks)",
    )
    def get(self, request, partner_id):
        engagements = engagements_of_partner(partner=self.partner)
        return Response(serializers.EngagementSerializer(engagements, many=True).data)

    @extend_schema(
        request=serializers.EngagementSerializer,
        responses={201: serializers.EngagementSerializer, **errors(400, 401, 403, 404, 415)},
        summary="Add an engagement; an activation needs one tied to its customer",
    )
    def post(self, request, partner_id):
        form = serializers.EngagementSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        engagement = partners.engagement_create(
            partner=self.partner, name=form.validated_data["name"], actor=request.user
        )
        return Response(
            serializers.EngagementSerializer(engagement).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[PARTNER_PARAMETER])
class ActivationListView(PartnerAPIMixin, APIView):
    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=serializers.ActivationRequestSerializer,
        responses={
            201: serializers.ActivationSerializer,
            **errors(400, 401, 403, 404, 409, 415, 422, 429),
        },
        summary="Activate a collaboration (and a subscription) for a customer",
        description=(
            "Either an existing `company`, named by its country, business id and name (both "
            "must match; a company that is not found and one with another name get the same "
            "400), or a new `customer` with its mandatory administrator, who is invited. "
            f"Each partner makes at most {partners.ACTIVATION_REQUESTS_PER_HOUR} activation "
            "requests an hour (refused ones count too); beyond that a 429 with `Retry-After`. "
            "A new customer needs `edition`, `seats`, `invoice_recipient` and "
            "`agreement_months` (3 or 12); for an existing company they are optional and "
            "checked the same way whether or not it has a subscription: one without gets "
            "that subscription when it approves, one with keeps its own (the selection is "
            "ignored, nothing is charged until renewal). The customer's administrator gets an "
            "e-mail to approve it and accept the terms; nothing is active or charged until "
            "then. Any invalid field is a 400 and nothing is saved."
        ),
    )
    @idempotent()
    def post(self, request, partner_id):
        form = serializers.ActivationRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        company = partners.ExistingCustomer(**data["company"]) if "company" in data else None
        customer = partners.NewCustomer(**data["customer"]) if "customer" in data else None
        with transaction.atomic():
            activation, _token = partners.activation_create(
                partner=self.partner,
                engagement=data["engagement"],
                actor=request.user,
                company=company,
                customer=customer,
                edition=data["edition"],
                seats=data.get("seats"),
                invoice_recipient=data["invoice_recipient"],
                agreement_months=data.get("agreement_months"),
                idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
            )
        activation = PartnerActivation.objects.with_scopes_disabled().get(pk=activation.pk)
        return Response(
            serializers.ActivationSerializer(activation).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[PARTNER_PARAMETER])
class PartnerInvitationListView(APIView):
    """GET: the partner's open invitations (its users). POST: a tenant admin invites this
    partner (the tenant in the body; 404 unless the caller administers it)."""

    @extend_schema(
        responses={
            200: serializers.PartnerInvitationSerializer(many=True),
            **errors(401, 403, 404),
        },
        summary="Open invitations from customers to this partner",
    )
    def get(self, request, partner_id):
        partner = partner_access(user=request.user, partner_id=partner_id)
        invitations = partners.partner_invitations_open(partner=partner)
        return Response(serializers.PartnerInvitationSerializer(invitations, many=True).data)

    @extend_schema(
        request=serializers.PartnerInvitationRequestSerializer,
        responses={
            201: serializers.PartnerInvitationSerializer,
            **errors(400, 401, 403, 404, 415),
        },
        summary="Invite this partner to collaborate with a tenant (its admins)",
    )
    def post(self, request, partner_id):
        # The tenant first: a caller who does not administer it learns nothing (404).
        named = request.data.get("tenant_id") if hasattr(request.data, "get") else None
        access = tenant_access(user=request.user, tenant_id=named)
        if access.role not in (Role.ADMIN, OPERATOR):
            return not_found()
        if not Partner.objects.filter(pk=partner_id).exists():
            return not_found()
        form = serializers.PartnerInvitationRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invitation, _token = partners.partner_invitation_create(
            tenant=access.tenant,
            actor=request.user,
            partner_id=partner_id,
            email=form.validated_data.get("email", ""),
        )
        return Response(
            serializers.PartnerInvitationSerializer(invitation).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema(parameters=[PARTNER_PARAMETER, INVITATION_PARAMETER])
class PartnerInvitationAcceptView(PartnerAPIMixin, APIView):
    @extend_schema(
        request=serializers.InvitationAcceptSerializer,
        responses={
            200: serializers.CollaborationSerializer,
            **errors(400, 401, 403, 404, 415),
        },
        summary="Accept a customer's invitation with an engagement: the collaboration is active",
    )
    def post(self, request, partner_id, partnerinvitation_id):
        invitation = next(
            (
                i
                for i in partners.partner_invitations_open(partner=self.partner)
                if i.pk == partnerinvitation_id
            ),
            None,
        )
        if invitation is None:
            return not_found()
        form = serializers.InvitationAcceptSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        with transaction.atomic():
            collaboration = partners.partner_invitation_accept(
                invitation=invitation,
                user=request.user,
                engagement=form.validated_data.get("engagement"),
                engagement_name=form.validated_data.get("engagement_name", ""),
                details_confirmed=form.validated_data["details_confirmed"],
                terms_version=form.validated_data["terms_version"],
            )
        return Response(serializers.CollaborationSerializer(collaboration).data)


# A partner's consolidated invoices.


@extend_schema(parameters=[PARTNER_PARAMETER])
@extend_schema_view(
    get=extend_schema(
        parameters=[InvoiceQuerySerializer],
        responses={200: InvoiceListSerializer(many=True), **errors(400, 401, 403, 404)},
        summary="The partner's consolidated invoices and credit notes, newest first",
    )
)
class PartnerInvoiceListView(PartnerScopedAPIMixin, generics.ListAPIView):
    serializer_class = InvoiceListSerializer

    def get_queryset(self):
        return invoices_filtered(
            Invoice.objects.filter(partner=self.partner)
            .defer("pdf", "seller_snapshot", "buyer_snapshot")
            .select_related("seller")
            .order_by("-invoice_date", "-pk"),
            query_params=self.request.query_params,
        )


@extend_schema(parameters=[PARTNER_PARAMETER, INVOICE_PARAMETER])
class PartnerInvoiceDetailView(PartnerScopedAPIMixin, APIView):
    @extend_schema(
        responses={200: serializers.PartnerInvoiceSerializer, **PARTNER_ERRORS},
        summary="One consolidated invoice or credit note: the invoice with its lines grouped "
        "by customer (`customers`: each customer's lines and net subtotal)",
    )
    def get(self, request, partner_id, invoice_id):
        invoice = (
            Invoice.objects.filter(partner=self.partner, pk=invoice_id)
            .defer("pdf")
            .select_related("seller", "credited_invoice")
            .prefetch_related(
                Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
                Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "pk")),
                Prefetch("credit_notes", queryset=Invoice.objects.defer("pdf").order_by("pk")),
            )
            .first()
        )
        if invoice is None:
            raise Http404("No such invoice.")
        return Response(serializers.PartnerInvoiceSerializer(invoice).data)
