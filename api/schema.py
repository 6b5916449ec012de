"""The OpenAPI schema's shared pieces: the bearer scheme, the error responses and the path
and header parameters that views of several domains document."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from api.errors import ErrorSerializer
from api.idempotency import HEADER as IDEMPOTENCY_HEADER


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/token.",
        }


ERROR_RESPONSE = OpenApiResponse(
    ErrorSerializer,
    description="Error: {error: {status, code, message, fields, reason, params}}",
)


def errors(*codes: int) -> dict:
    return dict.fromkeys(codes, ERROR_RESPONSE)


# No or a bad token: 401. Signed in by session without two-factor, or a role that may not: 403.
# A tenant (or a row) the caller cannot see: 404. A body that is not JSON, form or multipart
# (or has no Content-Type): 415.
SIGNED_IN_ERRORS = errors(401, 403)
TENANT_ERRORS = errors(401, 403, 404)
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Replays the first response for a repeated request with the same key.",
)
TENANT_PARAMETER = OpenApiParameter("tenant_id", int, OpenApiParameter.PATH)
INVOICE_PARAMETER = OpenApiParameter("invoice_id", int, OpenApiParameter.PATH)
PARTNER_PARAMETER = OpenApiParameter("partner_id", int, OpenApiParameter.PATH)
