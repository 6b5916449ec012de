import functools
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

HEALTHZ_PATH = "/healthz"


@functools.lru_cache(maxsize=4)
def _broker_client(url: str):
    """One client (and its connection pool) per process: a probe every few seconds must not
    open a new connection to the broker each time."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=2)


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness of the database and the Celery broker, for load balancers and compose."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure is reported, not raised
        checks["database"] = f"error: {error.__class__.__name__}"
    if settings.CELERY_TASK_ALWAYS_EAGER and not settings.REDIS_URL:
        checks["broker"] = "eager"
    else:
        try:
            _broker_client(settings.CELERY_BROKER_URL).ping()
            checks["broker"] = "ok"
        except Exception as error:  # noqa: BLE001
            checks["broker"] = f"error: {error.__class__.__name__}"
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


class HealthzMiddleware:
    """Answers ``/healthz`` before the HTTPS redirect and the ``ALLOWED_HOSTS`` check, so a
    container's health probe (plain HTTP to 127.0.0.1) works under production settings. It
    reveals only whether the database and the broker answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTHZ_PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
