from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, twofactor
from accounts.models import ApiToken, Invitation, Membership
from accounts.tenancy import MANAGING_ROLES, TenantScopedAPIMixin, partners_for_user
from accounts.tenancy import tenants_for_user as user_tenants
from api.accounts import serializers
from api.authentication import BearerTokenAuthentication
from api.errors import api_error, not_found
from api.idempotency import idempotent
from api.schema import (
    IDEMPOTENCY_PARAMETER,
    SIGNED_IN_ERRORS,
    TENANT_ERRORS,
    TENANT_PARAMETER,
    errors,
)


class TokenView(APIView):
    """POST: anyone exchanges credentials for a token. DELETE: revoke the token in use."""

    authentication_classes = [BearerTokenAuthentication]

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def perform_authentication(self, request):
        # Signing in needs no token: a stale Authorization header must not refuse it.
        if request.method != "POST":
            super().perform_authentication(request)

    @extend_schema(
        request=serializers.TokenRequestSerializer,
        responses={
            201: serializers.TokenSerializer,
            **errors(400, 401, 403, 415, 429),
        },
        summary="Exchange username, password (and one-time code) for a bearer token",
    )
    def post(self, request):
        form = serializers.TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=form.validated_data["username"],
            password=form.validated_data["password"],
        )
        if user is None:
            return api_error(401, "invalid_credentials", "The username or password is wrong.")
        device = twofactor.confirmed_device(user)
        if device is not None:
            code = form.validated_data.get("otp_code", "")
            if not code:
                return api_error(401, "otp_required", "Send otp_code: two-factor is on.")
            if not twofactor.device_verify(device, code):
                return api_error(401, "otp_invalid", "The one-time code is not valid.")
        elif twofactor.two_factor_required(user):
            return api_error(
                403, "two_factor_required", "Set up two-factor sign-in in the web app first."
            )
        token, key = services.api_token_create(user=user)
        body = {"token": key, "token_type": "Bearer", "expires_at": token.expires_at}
        return Response(serializers.TokenSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={204: None, **errors(401)},
        summary="Revoke the bearer token this request is made with",
    )
    def delete(self, request):
        services.api_token_revoke(user=request.user, token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    @extend_schema(
        responses={200: serializers.ApiTokenSerializer(many=True), **SIGNED_IN_ERRORS},
        summary="The caller's live tokens (never their secret)",
    )
    def get(self, request):
        tokens = services.api_tokens_of_user(user=request.user)
        current = request.auth.pk if isinstance(request.auth, ApiToken) else None
        return Response(
            serializers.ApiTokenSerializer(tokens, many=True, context={"current": current}).data
        )


class TokenDetailView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("apitoken_id", int, OpenApiParameter.PATH)],
        request=None,
        responses={204: None, **errors(401, 403, 404)},
        summary="Revoke one of the caller's tokens",
    )
    def delete(self, request, apitoken_id):
        if services.api_token_revoke(user=request.user, token_id=apitoken_id) is None:
            return not_found()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(
        responses={200: serializers.MeSerializer, **SIGNED_IN_ERRORS},
        summary="The signed-in user, the tenants and partners it acts for",
    )
    def get(self, request):
        user = request.user
        body = {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "is_operator": user.is_operator,
            "two_factor_enabled": twofactor.confirmed_device(user) is not None,
            "last_login": user.last_login,
            "previous_login_at": user.previous_login_at,
            "tenants": [
                {"id": access.tenant.pk, "name": access.tenant.name, "role": access.role}
                for access in user_tenants(user)
            ],
            "partners": [{"id": p.pk, "name": p.name} for p in partners_for_user(user)],
        }
        return Response(serializers.MeSerializer(body).data)


@extend_schema(parameters=[TENANT_PARAMETER])
class TenantDetailView(TenantScopedAPIMixin, APIView):
    @extend_schema(responses={200: serializers.TenantSerializer, **TENANT_ERRORS})
    def get(self, request, tenant_id):
        return Response(serializers.TenantSerializer(self.tenant).data)


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(responses={200: serializers.MembershipSerializer(many=True), **TENANT_ERRORS})
)
class MembershipListView(TenantScopedAPIMixin, generics.ListAPIView):
    serializer_class = serializers.MembershipSerializer
    tenant_roles = MANAGING_ROLES

    def get_queryset(self):
        return Membership.objects.select_related("user").order_by("pk")


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(responses={200: serializers.MembershipSerializer, **TENANT_ERRORS})
)
class MembershipDetailView(TenantScopedAPIMixin, generics.RetrieveAPIView):
    serializer_class = serializers.MembershipSerializer
    tenant_roles = MANAGING_ROLES
    lookup_url_kwarg = "membership_id"

    def get_queryset(self):
        return Membership.objects.select_related("user")


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(responses={200: serializers.InvitationSerializer(many=True), **TENANT_ERRORS})
)
class InvitationListView(TenantScopedAPIMixin, generics.ListAPIView):
    serializer_class = serializers.InvitationSerializer
    tenant_roles = MANAGING_ROLES

    def get_queryset(self):
        return Invitation.objects.order_by("-created_at", "-pk")

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=serializers.InvitationSerializer,
        responses={
            201: serializers.InvitationSerializer,
            **errors(400, 401, 403, 404, 409, 415, 422),
        },
        summary="Invite a user by e-mail",
    )
    @idempotent()
    def post(self, request, tenant_id):
        form = serializers.InvitationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            tenant=self.tenant,
            email=form.validated_data["email"],
            role=form.validated_data["role"],
            actor=request.user,
        )
        return Response(
            serializers.InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED
        )


@extend_schema(parameters=[TENANT_PARAMETER])
@extend_schema_view(
    get=extend_schema(responses={200: serializers.InvitationSerializer, **TENANT_ERRORS})
)
class InvitationDetailView(TenantScopedAPIMixin, generics.RetrieveDestroyAPIView):
    serializer_class = serializers.InvitationSerializer
    tenant_roles = MANAGING_ROLES
    lookup_url_kwarg = "invitation_id"

    def get_queryset(self):
        return Invitation.objects.all()

    @extend_schema(responses={204: None, **TENANT_ERRORS}, summary="Withdraw an invitation")
    def delete(self, request, tenant_id, invitation_id):
        invitation = get_object_or_404(self.get_queryset(), pk=invitation_id)
        services.invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
