from celery import shared_task

from api.idempotency import idempotency_keys_expire


@shared_task(name="api.idempotency_keys_expire")
def expire_idempotency_keys() -> int:
    return idempotency_keys_expire()
