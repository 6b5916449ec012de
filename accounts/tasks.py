from celery import shared_task

from accounts.mail import mail_send_now


@shared_task(
    name="accounts.send_templated_email",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def send_templated_email(*, to: list[str], template: str, context: dict, language: str) -> None:
    mail_send_now(to=to, template=template, context=context, language=language)
