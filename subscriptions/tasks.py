from celery import shared_task

from accounts.tenancy import TenantTask
from subscriptions.delivery import order_confirmation_deliver
from subscriptions.models import OrderConfirmation

# Connection and I/O errors are OSErrors: transient, retried with exponential backoff (30 s,
# 60 s, … capped at 10 min, jittered). Anything else fails fast. Five retries span about a
# quarter of an hour; the task is idempotent, so a retry or a redelivery never renders or
# writes twice (subscriptions/delivery.py). It sends nothing itself: the outbox relay does,
# with its own retries.
ORDER_DELIVERY_RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(
    base=TenantTask,
    name="subscriptions.order_confirmation_send",
    acks_late=True,
    **ORDER_DELIVERY_RETRY,
)
def order_confirmation_send(*, tenant_id: int, order_id: int) -> list[str]:
    """Render and store the order confirmation's PDF, then write its e-mail to each billing
    contact to the outbox; returns the addresses this run wrote to."""
    order = OrderConfirmation.objects.select_related("tenant").get(pk=order_id)
    return order_confirmation_deliver(order=order)
