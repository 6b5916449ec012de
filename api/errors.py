"""One error format for every API error:

    {"error": {"status": 404, "code": "not_found", "message": "...", "fields": {...}}}

``fields`` is present for validation errors and maps field names to messages.

A refusal of the domain (``severa.errors.DomainError``) answers with its class's status and
code, the message in the request's language (``Accept-Language``, else the language
cookie), and two more keys: ``reason``, the refusal's own stable code, and ``params``, the
values its message names::

    {"error": {"status": 422, "code": "quote_refused", "message": "Ei muutettavaa",
               "reason": "nothing_to_change", "params": {}}}
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django_scopes import ScopeError
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from severa.errors import DomainError


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False, help_text="Field name to its messages.")
    reason = serializers.CharField(
        required=False,
        help_text="A refusal of the service: its own stable code (e.g. `nothing_to_change`); "
        "`message` is its text in the request's language (Accept-Language).",
    )
    params = serializers.DictField(
        required=False, help_text="A refusal's values that its message names."
    )


class ErrorSerializer(serializers.Serializer):
    """The one error body every API error has (api/errors.py)."""

    error = ErrorDetailSerializer()


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten(value)}" for key, value in detail.items())
    return str(detail)


def domain_error_response(error: DomainError) -> Response:
    """The API's answer to a refusal of the domain: the one place they are mapped."""
    body = error_body(
        error.api_status, error.answered_code, str(error), fields=error.api_fields()
    )
    body["error"]["reason"] = error.code
    body["error"]["params"] = error.params_json()
    response = Response(body, status=error.api_status)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, ValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, ScopeError):
        # A bug, not a client error: never fall back to an unscoped answer.
        raise exc
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(
            response.status_code, "invalid", "The request is not valid.", fields=fields
        )
    elif isinstance(exc, Http404):
        body = error_body(404, "not_found", "Not found.")
    elif isinstance(exc, PermissionDenied):
        body = error_body(403, "permission_denied", "You may not do this.")
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        body = error_body(response.status_code, code, _flatten(exc.detail))
    else:  # pragma: no cover - DRF only handles the types above
        body = error_body(response.status_code, "error", str(exc))
    response.data = body
    return response


def api_error(status_code: int, code: str, message: str, fields: dict | None = None) -> Response:
    return Response(error_body(status_code, code, message, fields), status=status_code)


def not_found() -> Response:
    """The 404 of a row the caller cannot see, as a view answers it without raising."""
    return api_error(404, "not_found", "Not found.")


def handler400(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Bad requests Django refuses before any view (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
    is a 413, too many fields a 400): the API answers in its JSON shape."""
    if isinstance(exception, RequestDataTooBig):
        message = "The request body is too large."
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(413, "too_large", message), status=413)
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(400, "bad_request", "The request is not valid."), status=400)
    return defaults.bad_request(request, exception)


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "not_found", "Not found."), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(
                status.HTTP_500_INTERNAL_SERVER_ERROR,
                "server_error",
                "Something went wrong on our side.",
            ),
            status=500,
        )
    return defaults.server_error(request)
