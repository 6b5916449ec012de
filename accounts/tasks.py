from celery import shared_task

from accounts.mail import mail_send_now
from accounts.models import Membership
from accounts.services import new_member_notice_send
from accounts.tenancy import TenantTask

# SMTP errors are OSErrors: transient, retried with backoff; anything else fails fast.
RETRY = {
    "autoretry_for": (OSError,),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="accounts.send_templated_email", **RETRY)
def send_templated_email(
    *,
    to: list[str],
    template: str,
    context: dict,
    language: str | None = None,
    time_zone: str | None = None,
) -> None:
    mail_send_now(to=to, template=template, context=context, language=language, time_zone=time_zone)


@shared_task(base=TenantTask, name="accounts.notify_new_member", **RETRY)
def notify_new_member(*, tenant_id: int, membership_id: int) -> list[str]:
    membership = Membership.objects.select_related("tenant", "user").get(pk=membership_id)
    return new_member_notice_send(membership=membership)
