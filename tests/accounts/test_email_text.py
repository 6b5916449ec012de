"""E-mail is plain text in the recipient's language and time zone."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django_scopes import scopes_disabled

from accounts.mail import mail_render
from accounts.services import api_token_create, invitation_create
from accounts.tenancy import tenant_scope
from severa import clock
from tests.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db

COMPANY = 'Berg & Lind <"AB">'
ESCAPES = re.compile(r"&(amp|lt|gt|quot|#x27|#39|#34);")
TEMPLATES = sorted(
    path.name.removesuffix("_subject.txt")
    for path in (Path(settings.BASE_DIR) / "templates" / "email").glob("*_subject.txt")
)


class Named(str):
    """The company's name wherever a template reads a name or a field of it; dates and
    amounts where a template formats one."""

    TYPED = {
        "made_on": datetime.date(2026, 12, 21),
        "invoice_date": datetime.date(2026, 12, 21),
        "due_date": datetime.date(2027, 1, 4),
        "total": Decimal("124.00"),
        "vat": Decimal("24.00"),
        "currency": "EUR",
    }

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.TYPED.get(name, self)


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize(
    "template", [name for name in TEMPLATES if name != "password_reset"]
)  # password_reset: Django's form renders it; its subject names nobody.
def test_every_e_mail_shows_names_raw(template, language):
    value = Named(COMPANY)
    context = {
        key: value
        for key in (
            "tenant",
            "tenant_name",
            "partner",
            "system",
            "seller",
            "seller_name",
            "old_seller_name",
            "order",
            "invoice",
            "user",
            "invited_by",
            "admin_name",
            "cohort_start",
            "username",
            "email",
            "role",
            "prefix",
            "edition",
        )
    }
    context["expires_at"] = context["created_at"] = "2026-12-21T12:38:27.395052+00:00"
    subject, body = mail_render(template=template, context=context, language=language)
    assert not ESCAPES.search(subject), subject
    assert not ESCAPES.search(body), body
    subject_template = Path(settings.BASE_DIR) / "templates" / "email" / f"{template}_subject.txt"
    if "{{" in subject_template.read_text():
        assert COMPANY in subject


def test_an_invitation_is_sent_with_the_subject_raw_and_the_date_in_swedish_time():
    tenant = TenantFactory(name=COMPANY, country="SE", language="sv")
    with scopes_disabled():
        admin = MembershipFactory(tenant=tenant, role="admin").user
    moment = datetime.datetime(2026, 12, 14, 12, 38, 27, 395052, tzinfo=datetime.UTC)
    with (
        clock.frozen(moment),
        tenant_scope(tenant),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr("django.db.transaction.on_commit", lambda callback, **kwargs: callback())
        invitation_create(tenant=tenant, email="new@example.com", role="member", actor=admin)
    [message] = mail.outbox
    assert message.subject == f"Du har bjudits in till {COMPANY} i Severa"
    # Seven days later, 13:38:27 in Stockholm, in Swedish.
    assert "Länken är giltig till 21 dec. 2026 13:38:27." in message.body
    assert "2026-12-21T" not in message.body
    assert "+00:00" not in message.body


def test_the_api_token_notice_is_in_the_users_language_and_time_zone():
    tenant = TenantFactory(name=COMPANY, country="NO", language="nb")
    with scopes_disabled():
        user = MembershipFactory(tenant=tenant, role="member").user
    moment = datetime.datetime(2026, 6, 1, 8, 5, 0, 123456, tzinfo=datetime.UTC)
    with clock.frozen(moment), pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda callback, **kwargs: callback())
        api_token_create(user=user)
    [message] = mail.outbox
    # 10:05 in Oslo (summer time), in Norwegian.
    assert "En API-token som starter med" in message.body
    assert "1. juni 2026, 10:05:00" in message.body
    assert "08:05:00" not in message.body
