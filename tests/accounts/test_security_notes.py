"""Security notes for users (seed 004's phishing warning): the invoice e-mail, the sign-in
page and the help page say that a link from us never asks for a password and how to check
the sender, in the recipient's language."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from accounts.outbox import outbox_relay
from billing.delivery_tasks import invoice_deliver_task
from severa import clock
from tests.factories import BillingContactFactory, invoice_issue_through_services

pytestmark = pytest.mark.django_db
NOTE = "A link from us never asks for your password or card details."
FINNISH_NOTE = "Meiltä tuleva linkki ei koskaan kysy salasanaanne tai korttitietojanne."


@pytest.fixture(autouse=True)
def _sender(settings):
    settings.DEFAULT_FROM_EMAIL = "Severa billing <billing@severa.test>"
    settings.SITE_URL = "https://app.severa.test"


def test_the_sign_in_and_help_pages_carry_the_note_with_the_sender_domain():
    client = Client()
    for path in ("/accounts/login/", "/accounts/help/"):
        page = client.get(path).content.decode()
        assert NOTE in page, path
        assert "@severa.test" in page and "app.severa.test" in page


def test_the_help_page_follows_the_chosen_language():
    client = Client(HTTP_ACCEPT_LANGUAGE="fi")
    client.cookies["django_language"] = "fi"
    page = client.get("/accounts/help/").content.decode()
    assert FINNISH_NOTE in page


@pytest.mark.usefixtures("unscoped")
@pytest.mark.parametrize(("language", "note"), [("en", NOTE), ("fi", FINNISH_NOTE)])
def test_the_invoice_email_carries_it_in_the_recipients_language(tenant, language, note):
    tenant.language = language
    tenant.save()
    BillingContactFactory(tenant=tenant, email="ap@aalto.test", name="AP")
    invoice = invoice_issue_through_services(tenant)
    with clock.frozen(datetime.datetime(2024, 8, 19, 6, 0, tzinfo=datetime.UTC)):
        invoice_deliver_task.apply(
            kwargs={"tenant_id": invoice.tenant_id, "invoice_id": invoice.pk}
        ).get()
        outbox_relay()
    [message] = mail.outbox
    assert note in message.body
    assert "@severa.test" in message.body
    assert "&#x27;" not in message.body
    translation.activate("en")
