"""The generic record views of the API (api/records/views.py subclasses them per record
type): reads for every role of the tenant, writes for the managing roles, references to
other records by id, and the schema of a list or detail view."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from accounts.tenancy import MANAGING_ROLES, TenantScopedAPIMixin
from api.schema import IDEMPOTENCY_PARAMETER, TENANT_ERRORS, TENANT_PARAMETER, errors

WRITE_ERRORS = errors(400, 401, 403, 404, 409, 415, 422)


def resolve_references(
    data: dict[str, Any], references: dict[str, type[models.Model]], *, prefix: str = ""
) -> dict[str, Any]:
    """``{"customer_id": 5}`` -> ``{"customer": <Customer 5>}``, looked up in the tenant's
    scope; an id the tenant does not have is a ValidationError on that field."""
    resolved = dict(data)
    for name, model in references.items():
        key = f"{name}_id"
        if key not in resolved:
            continue
        value = resolved.pop(key)
        if value is None:
            resolved[name] = None
            continue
        record = model.objects.filter(pk=value).first()
        if record is None:
            raise ValidationError({f"{prefix}{key}": f"No such {model._meta.verbose_name}."})
        resolved[name] = record
    return resolved


class RecordAPIMixin(TenantScopedAPIMixin):
    """Reads for every role of the tenant, writes for the managing roles."""

    model: type[models.Model]
    references: dict[str, type[models.Model]] = {}
    # Nested list key -> references of each of its items.
    nested_references: dict[str, dict[str, type[models.Model]]] = {}
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def get_queryset(self):
        return (
            self.model.objects.select_related(*self.select_related)
            .prefetch_related(*self.prefetch_related)
            .order_by("pk")
        )

    def check_writable(self) -> None:
        if self.tenant_role not in MANAGING_ROLES:
            raise PermissionDenied

    def service_data(self, validated: dict[str, Any]) -> dict[str, Any]:
        data = resolve_references(validated, self.references)
        for key, references in self.nested_references.items():
            if data.get(key) is not None:
                data[key] = [
                    resolve_references(dict(item), references, prefix=f"{key}[{index}].")
                    for index, item in enumerate(data[key])
                ]
        return data

    def respond(self, record: models.Model, code: int = status.HTTP_200_OK) -> Response:
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(record).data, status=code)


class RecordListView(RecordAPIMixin, generics.ListAPIView):
    def create_record(self, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def post(self, request, tenant_id):
        self.check_writable()
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        record = self.create_record(self.service_data(form.validated_data))
        return self.respond(record, status.HTTP_201_CREATED)


class RecordDetailView(RecordAPIMixin, generics.RetrieveAPIView):
    def update_record(self, record: models.Model, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def _update(self, request, *, partial: bool) -> Response:
        record = self.get_object()
        self.check_writable()
        form = self.get_serializer(data=request.data, partial=partial)
        form.is_valid(raise_exception=True)
        return self.respond(self.update_record(record, self.service_data(form.validated_data)))

    def put(self, request, tenant_id, **kwargs):
        return self._update(request, partial=False)

    def patch(self, request, tenant_id, **kwargs):
        return self._update(request, partial=True)


def documented(serializer: type, plural: str, singular: str, id_name: str | None = None):
    """The schema of a list (``id_name`` None) or detail view of one record type."""
    parameters = [TENANT_PARAMETER]
    if id_name is None:
        return extend_schema_view(
            get=extend_schema(
                parameters=parameters,
                responses={200: serializer(many=True), **TENANT_ERRORS},
                summary=f"The {plural}",
            ),
            post=extend_schema(
                parameters=[*parameters, IDEMPOTENCY_PARAMETER],
                request=serializer,
                responses={201: serializer, **WRITE_ERRORS},
                summary=f"Create a {singular}; 400 with a message per wrong field saves nothing",
            ),
        )
    parameters = [*parameters, OpenApiParameter(id_name, int, OpenApiParameter.PATH)]
    return extend_schema_view(
        get=extend_schema(
            parameters=parameters,
            responses={200: serializer, **TENANT_ERRORS},
            summary=f"One {singular}",
        ),
        put=extend_schema(
            parameters=parameters,
            request=serializer,
            responses={200: serializer, **WRITE_ERRORS},
            summary=f"Replace a {singular}'s fields",
        ),
        patch=extend_schema(
            parameters=parameters,
            request=serializer,
            responses={200: serializer, **WRITE_ERRORS},
            summary=f"Change some of a {singular}'s fields",
        ),
    )
