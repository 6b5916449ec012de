"""Templated e-mail, written to the outbox in the surrounding transaction and sent by its
relay after the commit (accounts/outbox.py).

E-mail is plain text: templates render with HTML escaping off ("Berg & Lind", not
"Berg &amp; Lind"), in the recipient's language and time zone (``ldatetime`` and ``ldate``
format the ISO dates of the JSON context)."""

import uuid
import zoneinfo
from email.utils import parseaddr

from django.conf import settings
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from accounts.locale_format import country_time_zone
from accounts.models import OutboxMessage, Partner, Tenant
from accounts.outbox import outbox_message_add, outbox_relay_soon


def _render_text(name: str, context: dict) -> str:
    return get_template(name).template.render(Context(context, autoescape=False))


def mail_sender_domain() -> str:
    """The domain our e-mails come from (DEFAULT_FROM_EMAIL's): what users are told to check
    before trusting a message that looks like ours."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2].lower()


def mail_render(
    *, template: str, context: dict, language: str | None = None, time_zone: str | None = None
) -> tuple[str, str]:
    """(subject, body) from ``templates/email/<template>_subject.txt`` and ``_body.txt``, in
    ``language`` (the site's, settings.LANGUAGE_CODE, when not given: e-mail to partners)."""
    language = language or settings.LANGUAGE_CODE
    context = {"site_url": settings.SITE_URL, **context}
    zone = zoneinfo.ZoneInfo(time_zone or settings.TIME_ZONE)
    with translation.override(language), timezone.override(zone):
        subject = _render_text(f"email/{template}_subject.txt", context).strip()
        body = _render_text(f"email/{template}_body.txt", context)
    return " ".join(subject.split()), body


def mail_enqueue(
    *,
    to: list[str],
    template: str,
    context: dict,
    language: str | None = None,
    time_zone: str | None = None,
    tenant: Tenant | None = None,
    partner: Partner | int | None = None,
    dedupe_key: str | None = None,
    attachment: tuple[str, bytes, str] | None = None,
    each: bool = False,
) -> list[OutboxMessage]:
    """Render the e-mail now, in the recipient's ``language`` and ``time_zone``
    (``locale_format.country_time_zone``; settings.TIME_ZONE when not given), and write it
    to the outbox in the caller's transaction: one message to every address of ``to``, or
    with ``each`` one per address (recipients who must not see each other's). The relay
    sends them after the commit (accounts/outbox.py). ``tenant`` or ``partner`` says whose
    message it is (neither: mail about a user's own account). ``dedupe_key`` names what the
    mail tells about, for callers that may run twice (a task): it is written once. Returns
    the messages written."""
    addresses = sorted({address.strip() for address in to if address and address.strip()})
    if not addresses:
        return []
    subject, body = mail_render(
        template=template, context=context, language=language, time_zone=time_zone
    )
    # Without a key every call is its own mail: a second invitation is a second e-mail.
    key = dedupe_key or f"{template}:{uuid.uuid4().hex}"
    batches = [[address] for address in addresses] if each else [addresses]
    written = []
    for batch in batches:
        message = outbox_message_add(
            tenant=tenant,
            partner=partner,
            kind=template,
            to=", ".join(batch),
            subject=subject,
            body=body,
            dedupe_key=f"{key}:{batch[0].lower()}" if each else key,
            attachment=attachment,
        )
        if message is not None:
            written.append(message)
    outbox_relay_soon(messages=written)
    return written


def user_mail_locale(user) -> tuple[str, str]:
    """(language, time zone) of e-mail to a user about their own account: their first
    company's; a partner user's is the site's (like every e-mail to partners) in the partner's
    time zone; else the defaults."""
    from django_scopes import scopes_disabled

    with scopes_disabled():
        membership = (
            user.memberships.filter(is_active=True).select_related("tenant").order_by("pk").first()
        )
        if membership is not None:
            tenant = membership.tenant
            return tenant.language or settings.LANGUAGE_CODE, country_time_zone(tenant.country)
        partner_membership = (
            user.partner_memberships.filter(is_active=True)
            .select_related("partner")
            .order_by("pk")
            .first()
        )
    if partner_membership is not None:
        partner = partner_membership.partner
        return settings.LANGUAGE_CODE, country_time_zone(partner.country)
    return settings.LANGUAGE_CODE, settings.TIME_ZONE
