"""The e-mail outbox: every e-mail the service sends (RELIABILITY.md "Celery": write an
outbox row in the same transaction, and relay it).

A message is written in the transaction that makes what it tells about (an invitation, an
order's delivery, an invoice link, a password reset), so the two commit or roll back together:
nothing is lost between the commit and a broker publish, and nothing is e-mailed about a
rolled-back change. `dedupe_key` is unique, so writing the same message twice (a task run
again) writes it once. Templated mail is written through `accounts.mail.mail_enqueue`.

The relay (`outbox_relay`: the Celery task `accounts.outbox_relay`) sends the messages a
transaction wrote right after it commits (`outbox_relay_soon`), and on the beat every minute
every pending message whose `next_attempt_at` has come (retries, and any message whose
immediate run was lost):

- each message is sent under its row lock (`SELECT … FOR UPDATE SKIP LOCKED`) and marked
  sent in the same transaction, so two relays never send one message and a message marked
  sent is never sent again. Only a crash between the mail server accepting it and the commit
  sends it twice (at least once, never silently lost);
- a failed attempt is recorded (`attempts`, `last_error`) and retried after 1 min, 5 min,
  30 min and 2 h; after the fifth attempt, or at once when the server refuses the address
  (a permanent error), the message is `failed`. Operators see every message on
  /operator/outbox/ and can send a failed one again (`outbox_message_retry`).

Once a message is sent (or cancelled) the link tokens in its stored body are blanked out and
its attachment is dropped: the database keeps no usable token of a delivered link. Apps that
follow what became of their messages (billing: an invoice is sent once its messages went
out) register a callback with `outbox_settled_register`.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from accounts.audit import AuditAction, audit_record
from accounts.models import OutboxMessage, OutboxStatus, Partner, Tenant, User
from accounts.scoping import recipient_scope
from severa import clock
from severa.errors import DomainError

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, 3rd and 4th failed attempt; the 5th failure is final.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Messages one relay run sends at most; the next run (a minute later) continues.
RELAY_BATCH_SIZE = 200
ERROR_MAX_LENGTH = 2000
# A token in a message body's link: /links/<document>/<token>/, /invitations/<token>/
# (a user's or a partner's), /activations/<token>/, /reset/<user>/<token>/.
_LINK_TOKEN = re.compile(
    r"(/(?:links/[a-z-]+|invitations|activations|reset/[A-Za-z0-9_-]+)/)[A-Za-z0-9_:-]{16,}"
)
REDACTED = "[sent]"

# Called with a message the relay has settled (sent, or failed for good), in that send's
# transaction and the message owner's scope.
_settled: list[Callable[[OutboxMessage], None]] = []


def outbox_settled_register(*, callback: Callable[[OutboxMessage], None]) -> None:
    if callback not in _settled:
        _settled.append(callback)


def retry_at(*, attempts: int, now: datetime) -> datetime | None:
    """When to try again after the `attempts`-th attempt failed (1 min, 5 min, 30 min,
    2 h); None when that was the last one. The e-invoice relay backs off the same way."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[attempts - 1]


def outbox_message_add(
    *,
    kind: str,
    to: str,
    subject: str,
    body: str,
    dedupe_key: str,
    tenant: Tenant | None = None,
    partner: Partner | int | None = None,
    attachment: tuple[str, bytes, str] | None = None,
) -> OutboxMessage | None:
    """Write a pending message in the caller's transaction; None when a message with this
    `dedupe_key` exists already (written before: nothing to do). `to` is one address, or
    several joined with ", " (they see each other's); `attachment` is (file name, content,
    MIME type). The relay sends it after the commit: pass the caller's messages to
    `outbox_relay_soon` once they are written."""
    now = clock.now()
    name, content, content_type = attachment or ("", None, "")
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller's work intact
            return OutboxMessage.objects.create(
                tenant=tenant,
                partner_id=getattr(partner, "pk", partner),
                kind=kind,
                to=to,
                subject=subject,
                body=body,
                attachment_name=name,
                attachment_type=content_type,
                attachment=content,
                dedupe_key=dedupe_key,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        with scopes_disabled():  # the key is unique across every owner
            if OutboxMessage.objects.filter(dedupe_key=dedupe_key).exists():
                return None
        raise


def outbox_relay_soon(*, messages: list[OutboxMessage]) -> None:
    """Send `messages` right after the current transaction commits, not only on the next
    beat (which sends whatever is due, retries included)."""
    # Imported here: the task module imports this one (its task runs the relay).
    from accounts.tasks import outbox_relay_task

    message_ids = sorted(message.pk for message in messages)
    if message_ids:
        transaction.on_commit(lambda: outbox_relay_task.delay(message_ids=message_ids))


@contextmanager
def _owner_scope(*, tenant_id: int | None, partner_id: int | None) -> Iterator[None]:
    """The scope of the message's owner; a message of nobody's is the relay's alone."""
    if tenant_id is None and partner_id is None:
        with scopes_disabled():
            yield
    else:
        with recipient_scope(tenant_id=tenant_id, partner_id=partner_id):
            yield


def outbox_relay(
    *, limit: int = RELAY_BATCH_SIZE, message_ids: list[int] | None = None
) -> dict[str, int]:
    """Send the due pending messages of everyone (or only those of `message_ids`), oldest
    first; returns the outcomes counted ({"sent": 3, "retry": 1, …})."""
    now = clock.now()
    # Listing ids across owners is the relay's job; each send runs in its owner's scope.
    with scopes_disabled():
        due = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        if message_ids is not None:
            due = due.filter(pk__in=message_ids)
        due = list(
            due.order_by("next_attempt_at", "id").values_list("pk", "tenant_id", "partner_id")[
                :limit
            ]
        )
    outcomes: Counter[str] = Counter()
    if not due:
        return {}
    connection = get_connection()
    try:
        # One SMTP session for the batch. Opened here only to share it: when the server is
        # unreachable, each message's own attempt fails and is recorded (with backoff).
        connection.open()
    except Exception:
        logger.warning("The mail server is unreachable; recording the attempts", exc_info=True)
    try:
        for message_id, tenant_id, partner_id in due:
            with _owner_scope(tenant_id=tenant_id, partner_id=partner_id):
                outcomes[outbox_message_send(message_id=message_id, connection=connection)] += 1
    finally:
        _connection_reset(connection)
    return dict(outcomes)


def outbox_message_send(*, message_id: int, connection=None) -> str:
    """Send one due message; returns what happened: "sent", "retry", "failed" or "skipped"
    (not due, not pending, or being sent by another relay right now)."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        )
        now = clock.now()
        if message is None or message.status != OutboxStatus.PENDING:
            return "skipped"
        if message.next_attempt_at > now:
            return "skipped"
        message.attempts += 1
        try:
            _email(message, connection).send()
        except smtplib.SMTPRecipientsRefused as error:
            # The server refuses the address: retrying cannot help.
            outcome = _failed(message, error)
        except Exception as error:
            _connection_reset(connection)
            # Anything else (connection refused, timeout, 4xx, a broken backend) is recorded
            # and retried later; the message stays readable for the operators.
            next_attempt_at = retry_at(attempts=message.attempts, now=now)
            if next_attempt_at is None:
                outcome = _failed(message, error)
            else:
                message.next_attempt_at = next_attempt_at
                message.last_error = _describe(error)
                outcome = "retry"
                logger.info(
                    "Outbox message %s: attempt %s failed, next at %s: %s",
                    message.pk,
                    message.attempts,
                    message.next_attempt_at.isoformat(),
                    message.last_error,
                )
        else:
            message.status = OutboxStatus.SENT
            message.sent_at = now
            message.body = outbox_body_redacted(body=message.body)
            message.attachment = None
            outcome = "sent"
        message.save(
            update_fields=[
                "status",
                "attempts",
                "next_attempt_at",
                "last_error",
                "sent_at",
                "body",
                "attachment",
            ]
        )
        if message.status != OutboxStatus.PENDING:
            _settle(message)
    return outcome


def _email(message: OutboxMessage, connection) -> EmailMessage:
    email = EmailMessage(
        subject=message.subject,
        body=message.body,
        to=message.to.split(", "),
        connection=connection,
    )
    if message.attachment is not None:
        email.attach(message.attachment_name, bytes(message.attachment), message.attachment_type)
    return email


def _settle(message: OutboxMessage) -> None:
    for callback in _settled:
        callback(message=message)


def _connection_reset(connection) -> None:
    # Close the session (after the batch, or when broken: the next send opens a new one, so
    # one dropped connection does not fail the rest of the batch).
    if connection is not None:
        try:
            connection.close()
        except Exception:
            logger.warning("Closing the mail connection failed", exc_info=True)


def _failed(message: OutboxMessage, error: Exception) -> str:
    message.status = OutboxStatus.FAILED
    message.last_error = _describe(error)
    logger.error(
        "Outbox message %s to %s failed after %s attempts: %s",
        message.pk,
        message.to,
        message.attempts,
        message.last_error,
    )
    return "failed"


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]


def outbox_body_redacted(*, body: str) -> str:
    return _LINK_TOKEN.sub(rf"\g<1>{REDACTED}", body)


class OutboxRetryError(DomainError):
    """Refused: only a failed message can be sent again."""

    api_status = 409
    api_code = "not_failed"
    messages = {"not_failed": _("Only a failed message can be sent again.")}


def outbox_message_retry(*, message: OutboxMessage, actor: User | None) -> OutboxMessage:
    """Put a failed message back in the queue with a fresh round of attempts (an operator's
    Retry button); it goes out with the next relay run. Call inside its owner's scope (or
    with scopes disabled)."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if message.status != OutboxStatus.FAILED:
            raise OutboxRetryError("not_failed", message=message.pk, status=message.status)
        previous_attempts = message.attempts
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = clock.now()
        message.save(update_fields=["status", "attempts", "next_attempt_at"])
        audit_record(
            actor=actor,
            action=AuditAction.OUTBOX_MESSAGE_RETRIED,
            tenant=message.tenant_id,
            partner=message.partner_id,
            subject=message,
            details={
                "message": message.pk,
                "to": message.to,
                "previous_attempts": previous_attempts,
                "last_error": message.last_error,
            },
        )
        outbox_relay_soon(messages=[message])
    return message


def outbox_messages_cancel(*, messages: QuerySet[OutboxMessage]) -> int:
    """Cancel the unsent ones of `messages` (what they told about was withdrawn); returns
    how many. Call inside a transaction."""
    cancelled = 0
    for message in messages.select_for_update().filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED]
    ):
        message.status = OutboxStatus.CANCELLED
        message.body = outbox_body_redacted(body=message.body)
        message.attachment = None
        message.save(update_fields=["status", "body", "attachment"])
        cancelled += 1
    return cancelled
