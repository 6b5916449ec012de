from celery import shared_task

from accounts.models import Membership
from accounts.outbox import outbox_relay
from accounts.services import new_member_notice_send
from accounts.tenancy import TenantTask

# A lost database connection is an OSError: transient, retried with backoff; anything else
# fails fast. E-mail is not sent by these tasks: the outbox relay does, with its own retries.
RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(base=TenantTask, name="accounts.notify_new_member", **RETRY)
def notify_new_member(*, tenant_id: int, membership_id: int) -> list[str]:
    membership = Membership.objects.select_related("tenant", "user").get(pk=membership_id)
    return new_member_notice_send(membership=membership)


@shared_task(name="accounts.outbox_relay", acks_late=True)
def outbox_relay_task(*, message_ids: list[int] | None = None) -> dict[str, int]:
    """Send the due pending outbox messages (beat: every minute), or those of `message_ids`
    (right after the transaction that wrote them commits)."""
    return outbox_relay(message_ids=message_ids)
