"""The e-mail outbox moved from billing to accounts (migrations `accounts 0004` and
`billing 0016`) without a row lost: messages written through billing's model before the move
are read, unchanged, through accounts' after it; an invoice message keeps its invoice and
link (now billing's `InvoiceMessage`); the content type follows the model."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django_scopes import scopes_disabled

from accounts.models import OutboxMessage
from billing.links import invoice_link_create
from billing.models import InvoiceMessage
from tests.factories import PartnerFactory, TenantFactory, invoice_create

BEFORE = [
    ("accounts", "0003_user_manager_announces_updates"),
    ("billing", "0015_line_kinds_of_issued_lines"),
]
WHEN = datetime.datetime(2025, 6, 5, 9, 30, tzinfo=datetime.UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets)


@pytest.fixture
def before_the_move(transactional_db):
    """The database before the move; back at the latest migrations afterwards."""
    state = _migrate(BEFORE)
    yield state.apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_every_outbox_message_survives_the_move_to_accounts(before_the_move):
    old = before_the_move.get_model("billing", "OutboxMessage")
    ContentType.objects.clear_cache()
    assert ContentType.objects.get(model="outboxmessage").app_label == "billing"
    with scopes_disabled():
        tenant = TenantFactory(name="Aalto Consulting Oy")
        partner = PartnerFactory(name="Tilitoimisto Luku Oy")
        invoice = invoice_create(tenant)
        link, _token = invoice_link_create(invoice=invoice, contact=None, email="ap@aalto.test")
    common = {"subject": "Invoice", "next_attempt_at": WHEN, "created_at": WHEN}
    linked = old.objects.create(
        tenant_id=tenant.pk,
        kind="invoice_link",
        to="ap@aalto.test",
        body="/links/invoice/[sent]/",
        dedupe_key=f"invoice:{invoice.pk}:link:ap@aalto.test",
        invoice_id=invoice.pk,
        link_id=link.pk,
        status="sent",
        attempts=1,
        sent_at=WHEN,
        **common,
    )
    partners = old.objects.create(
        partner_id=partner.pk,
        kind="invoice_link",
        to="ap@luku.test",
        body="b",
        dedupe_key="partner-message",
        status="failed",
        attempts=5,
        last_error="SMTPRecipientsRefused: no such user",
        **common,
    )

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    ContentType.objects.clear_cache()
    assert ContentType.objects.get(model="outboxmessage").app_label == "accounts"
    with scopes_disabled():
        moved = {m.pk: m for m in OutboxMessage.objects.all()}
        assert set(moved) == {linked.pk, partners.pk}
        first, second = moved[linked.pk], moved[partners.pk]
        assert (first.tenant_id, first.partner_id, first.to, first.status, first.sent_at) == (
            tenant.pk,
            None,
            "ap@aalto.test",
            "sent",
            WHEN,
        )
        assert (second.tenant_id, second.partner_id, second.status, second.attempts) == (
            None,
            partner.pk,
            "failed",
            5,
        )
        assert second.last_error == "SMTPRecipientsRefused: no such user"
        assert list(InvoiceMessage.objects.values_list("message_id", "invoice_id", "link_id")) == [
            (linked.pk, invoice.pk, link.pk)
        ]
        # A message may now be nobody's (a password reset), never both a tenant's and a
        # partner's.
        OutboxMessage.objects.create(
            kind="password_reset",
            to="a@b.test",
            subject="s",
            body="b",
            dedupe_key="x",
            next_attempt_at=WHEN,
            created_at=WHEN,
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            OutboxMessage.objects.create(
                tenant=tenant,
                partner=partner,
                kind="password_reset",
                to="a@b.test",
                subject="s",
                body="b",
                dedupe_key="y",
                next_attempt_at=WHEN,
                created_at=WHEN,
            )
