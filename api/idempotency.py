"""``Idempotency-Key`` for POSTs that create things.

Same key and same body: the first response is replayed (header ``Idempotent-Replayed: true``).
Same key and another body: 422. A second request while the first is still running: 409.
Keys are kept per owner (the tenant, else the partner, else the user) for
``IDEMPOTENCY_KEY_VALID_HOURS``. A unique constraint on (owner, key), not a read-then-write,
is what makes two concurrent requests with one key produce one effect.
"""

import datetime
import hashlib
import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import api_error
from api.models import IdempotencyKey
from severa import clock

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def idempotency_owner(view, request: Request, kwargs: dict) -> str:
    tenant = getattr(view, "tenant", None)
    if tenant is not None:
        return f"tenant:{tenant.pk}"
    if "partner_id" in kwargs:
        return f"partner:{kwargs['partner_id']}"
    return f"user:{request.user.pk}"


def request_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def idempotent(*, required: bool = False, replay_created_as_ok: bool = False) -> Callable:
    """Decorate a DRF handler method (``post``).

    ``replay_created_as_ok``: a replay of a 201 answers 200 with the same body, for handlers
    whose own repeat without a key answers 200 (only the call that created it says 201)."""

    def decorator(handler: Callable) -> Callable:
        @wraps(handler)
        def wrapped(view, request: Request, *args, **kwargs) -> Response:
            key = request.headers.get(HEADER, "").strip()
            if not key:
                if required:
                    return api_error(
                        400,
                        "idempotency_key_required",
                        f"Send an {HEADER} header with this request.",
                    )
                return handler(view, request, *args, **kwargs)
            if len(key) > MAX_KEY_LENGTH:
                return api_error(
                    400,
                    "idempotency_key_invalid",
                    f"{HEADER} must be at most {MAX_KEY_LENGTH} characters.",
                )
            owner = idempotency_owner(view, request, kwargs)
            fingerprint = request_fingerprint(request)
            now = clock.now()
            IdempotencyKey.objects.filter(owner=owner, key=key, expires_at__lte=now).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        owner=owner,
                        key=key,
                        fingerprint=fingerprint,
                        created_at=now,
                        expires_at=now
                        + datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_VALID_HOURS),
                    )
            except IntegrityError:
                replay = _replay(owner=owner, key=key, fingerprint=fingerprint)
                if replay_created_as_ok and replay.status_code == 201:
                    replay.status_code = 200
                return replay
            try:
                response = handler(view, request, *args, **kwargs)
            except BaseException:
                record.delete()
                raise
            if response.status_code >= 500:
                record.delete()
                return response
            record.is_complete = True
            record.response_status = response.status_code
            record.response_body = json.loads(json.dumps(response.data, default=str))
            record.save(update_fields=["is_complete", "response_status", "response_body"])
            return response

        return wrapped

    return decorator


def _replay(*, owner: str, key: str, fingerprint: str) -> Response:
    record = IdempotencyKey.objects.filter(owner=owner, key=key).first()
    if record is None:  # expired and removed between our insert and this read
        return api_error(409, "idempotency_key_in_use", "Retry the request.")
    if record.fingerprint != fingerprint:
        return api_error(
            422, "idempotency_key_reused", f"This {HEADER} was used with a different request."
        )
    if not record.is_complete:
        return api_error(
            409, "idempotency_key_in_use", "A request with this key is still being processed."
        )
    response = Response(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotency_keys_expire() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=clock.now()).delete()
    return deleted
