"""What the security notes name: the domain our e-mails come from and the site's address."""

from urllib.parse import urlsplit

from django import template
from django.conf import settings

from accounts.mail import mail_sender_domain

register = template.Library()


@register.simple_tag
def sender_domain() -> str:
    return mail_sender_domain()


@register.simple_tag
def site_address() -> str:
    return urlsplit(settings.SITE_URL).netloc
