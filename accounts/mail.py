"""Templated e-mail, sent by a Celery worker after the surrounding transaction commits."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def mail_render(*, template: str, context: dict, language: str = "en") -> tuple[str, str]:
    """(subject, body) from ``templates/email/<template>_subject.txt`` and ``_body.txt``."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = render_to_string(f"email/{template}_subject.txt", context).strip()
        body = render_to_string(f"email/{template}_body.txt", context)
    return " ".join(subject.split()), body


def mail_send_now(*, to: list[str], template: str, context: dict, language: str = "en") -> None:
    subject, body = mail_render(template=template, context=context, language=language)
    EmailMultiAlternatives(subject=subject, body=body, to=to).send()


def mail_enqueue(*, to: list[str], template: str, context: dict, language: str = "en") -> None:
    """Send after commit; ``context`` must hold only JSON-serialisable values."""
    if not to:
        return
    from accounts.tasks import send_templated_email

    transaction.on_commit(
        lambda: send_templated_email.delay(
            to=sorted(set(to)), template=template, context=context, language=language
        )
    )
