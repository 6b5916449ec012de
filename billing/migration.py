"""Seller migration (DESIGN §3.5): moving subscriptions from one seller entity to another in
cohorts chosen by the start date of their next period.

The operator schedules a cohort (`seller_migration_schedule`): every active subscription of
the old seller that starts a period on `cohort_start` becomes an item. Billing contacts are
told in advance (`seller_migration_notify`, by hand or, at the latest `notice_days` before
the cohort starts, by the daily run through `seller_migrations_notify_due`). On the cohort's
first day the billing run calls `seller_migrations_apply` *before* the rollover, so the
renewal order of the new period — and the invoice that follows it — comes from the new
entity, with its numbering and its bank account in the subscription's unchanged currency.

Which subscriptions start a period on `cohort_start`: the one whose current period ends the
day before, and also one whose current period ends earlier and whose later periods reach that
day (a monthly subscription scheduled two months ahead). A subscription waits in one open
cohort at a time (a partial unique index), so the cohort that comes first takes it.

Every step is idempotent and safe to run twice or in two workers at once: a notice is
recorded on its item in the transaction that queues the e-mail (the mail leaves only after
that commit), and a switch re-reads the item and the subscription under their row locks.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, timedelta
from typing import Any

from babel import Locale
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from django_scopes import scopes_disabled

from accounts import locale_format
from accounts.audit import AuditAction, audit_record
from accounts.mail import mail_enqueue
from accounts.models import Tenant, User
from accounts.services import tenant_admin_emails
from accounts.tenancy import tenant_scope
from billing.bank_accounts import domestic_payment_details
from billing.contacts import billing_contact_addresses
from billing.models import (
    OPEN_MIGRATION_ITEM_STATUSES,
    OPEN_MIGRATION_STATUSES,
    SellerEntity,
    SellerMigration,
    SellerMigrationItem,
    SellerMigrationItemStatus,
    SellerMigrationStatus,
    TermsVersion,
)
from severa import clock
from severa.errors import DomainError
from subscriptions.models import (
    ChangeKind,
    ChangeStatus,
    ScheduledChange,
    Subscription,
    SubscriptionStatus,
)

logger = logging.getLogger(__name__)

NOTICE_TEMPLATE = "seller_migration_notice"


class SellerMigrationError(DomainError):
    """A refused migration action; the message is meant for an operator."""

    api_code = "migration_refused"
    messages = {
        "same_seller": _("Choose two different seller entities."),
        "cohort_not_first_of_month": _("A cohort starts on the 1st of a month, not on %(date)s."),
        "negative_notice": _("The notice cannot be negative."),
        "too_late": ngettext_lazy(
            "Too late for %(date)s: billing contacts must be told %(count)s day in advance, "
            "by %(latest)s. Choose a later cohort.",
            "Too late for %(date)s: billing contacts must be told %(count)s days in advance, "
            "by %(latest)s. Choose a later cohort.",
            "count",
        ),
        "cohort_exists": _("The %(date)s cohort of %(seller)s is scheduled already."),
        "no_subscriptions": _("No active subscription of %(seller)s starts a period on %(date)s."),
        "missing_bank_accounts": _(
            "%(seller)s has no bank account in %(currencies)s: the cohort has subscriptions in "
            "%(listed)s. Add the missing accounts to the seller entity first; a subscription "
            "keeps its currency."
        ),
        "taken_meanwhile": _(
            "Another cohort took some of these subscriptions meanwhile; try again."
        ),
        "not_open": _("The migration is %(status)s."),
        "cohort_started": _(
            "The cohort has started: its subscriptions are moving to the new seller."
        ),
        "notice_too_late": _("The cohort has started: a notice now would not be in advance."),
    }


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + (later.month - earlier.month)


def starts_a_period_on(*, subscription: Subscription, day: date) -> bool:
    """Whether one of the subscription's coming periods starts on `day` (a 1st).

    Periods follow each other without gaps from the day after the current period ends, each
    `period_months` long, so `day` starts one exactly when it is that day or a whole number
    of periods later.
    """
    following_start = subscription.period_end + timedelta(days=1)
    if day < following_start or following_start.day != 1:
        return False
    return _months_between(following_start, day) % subscription.period_months == 0


def cohort_candidates(*, from_seller: SellerEntity, cohort_start: date) -> list[Subscription]:
    """The subscriptions a cohort would take now: active, of `from_seller`, starting a period
    on `cohort_start`, not terminating by then and not waiting in another open cohort."""
    with scopes_disabled():
        subscriptions = (
            Subscription.objects.filter(
                seller=from_seller,
                status=SubscriptionStatus.ACTIVE,
                period_end__lt=cohort_start,
            )
            .exclude(
                pk__in=SellerMigrationItem.objects.filter(
                    status__in=OPEN_MIGRATION_ITEM_STATUSES
                ).values("subscription_id")
            )
            .exclude(
                # Ending before the cohort starts: no period of theirs reaches the new seller.
                pk__in=ScheduledChange.objects.filter(
                    kind=ChangeKind.TERMINATION,
                    status=ChangeStatus.SCHEDULED,
                    effective_date__lte=cohort_start,
                ).values("subscription_id")
            )
            .select_related("tenant")
            .order_by("tenant__name", "pk")
        )
        return [s for s in subscriptions if starts_a_period_on(subscription=s, day=cohort_start)]


def _missing_accounts(seller: SellerEntity, currencies: Counter) -> dict[str, int]:
    have = set(seller.bank_accounts.values_list("currency", flat=True))
    return {
        currency: count for currency, count in sorted(currencies.items()) if currency not in have
    }


def _missing_accounts_error(seller: SellerEntity, missing: dict[str, int]) -> SellerMigrationError:
    return SellerMigrationError(
        "missing_bank_accounts",
        seller=seller.name,
        currencies=", ".join(missing),
        listed=_subscriptions_by_currency(tuple(missing.items())),
    )


def _subscriptions_by_currency_now(missing: tuple[tuple[str, int], ...]) -> str:
    """ "EUR (3 subscriptions), SEK (1 subscription)" in the active language."""
    return ", ".join(
        ngettext(
            "%(currency)s (%(count)s subscription)",
            "%(currency)s (%(count)s subscriptions)",
            count,
        )
        % {"currency": currency, "count": count}
        for currency, count in missing
    )


# Rendered with the message, in the language where it is shown.
_subscriptions_by_currency = lazy(_subscriptions_by_currency_now, str)


def seller_migration_schedule(
    *,
    from_seller: SellerEntity,
    to_seller: SellerEntity,
    cohort_start: date,
    actor: User | None,
    notice_days: int = 30,
) -> SellerMigration:
    """Schedule a cohort: create the migration and one item per subscription it takes.

    Refused (SellerMigrationError, nothing written) when the sellers are the same, the date
    is not a 1st of a month or leaves less than `notice_days` for the notice, the cohort is
    scheduled already, no subscription starts a period that day, or the new seller has no
    bank account in a currency of the cohort (the message names the currencies).
    """
    if from_seller.pk == to_seller.pk:
        raise SellerMigrationError("same_seller")
    if cohort_start.day != 1:
        raise SellerMigrationError("cohort_not_first_of_month", date=cohort_start)
    if notice_days < 0:
        raise SellerMigrationError("negative_notice")
    today = clock.today()
    latest_notice = cohort_start - timedelta(days=notice_days)
    if latest_notice < today:
        raise SellerMigrationError(
            "too_late", date=cohort_start, count=notice_days, latest=latest_notice
        )
    with transaction.atomic(), scopes_disabled():
        # The old seller's row serialises the scheduling of its cohorts.
        SellerEntity.objects.select_for_update().get(pk=from_seller.pk)
        if (
            SellerMigration.objects.filter(from_seller=from_seller, cohort_start=cohort_start)
            .exclude(status=SellerMigrationStatus.CANCELLED)
            .exists()
        ):
            raise SellerMigrationError("cohort_exists", date=cohort_start, seller=from_seller.name)
        subscriptions = cohort_candidates(from_seller=from_seller, cohort_start=cohort_start)
        if not subscriptions:
            raise SellerMigrationError(
                "no_subscriptions", seller=from_seller.name, date=cohort_start
            )
        missing = _missing_accounts(to_seller, Counter(s.currency for s in subscriptions))
        if missing:
            raise _missing_accounts_error(to_seller, missing)
        try:
            with transaction.atomic():
                migration = SellerMigration.objects.create(
                    from_seller=from_seller,
                    to_seller=to_seller,
                    cohort_start=cohort_start,
                    notice_days=notice_days,
                    created_at=clock.now(),
                    created_by=actor,
                )
                SellerMigrationItem.objects.bulk_create(
                    SellerMigrationItem(
                        tenant_id=subscription.tenant_id,
                        migration=migration,
                        subscription=subscription,
                        currency=subscription.currency,
                    )
                    for subscription in subscriptions
                )
        except IntegrityError:
            # A subscription joined another cohort meanwhile (or this one was scheduled).
            raise SellerMigrationError("taken_meanwhile") from None
        for subscription in subscriptions:
            audit_record(
                actor=actor,
                action=AuditAction.SELLER_MIGRATION_SCHEDULED,
                tenant=subscription.tenant,
                details={
                    "migration": migration.pk,
                    "from_seller": from_seller.name,
                    "to_seller": to_seller.name,
                    "cohort_start": cohort_start.isoformat(),
                },
            )
    return migration


def seller_migration_cancel(*, migration: SellerMigration, actor: User | None) -> SellerMigration:
    """Cancel a cohort before its first day; its subscriptions stay with the old seller."""
    with transaction.atomic(), scopes_disabled():
        migration = SellerMigration.objects.select_for_update().get(pk=migration.pk)
        if migration.status not in OPEN_MIGRATION_STATUSES:
            raise SellerMigrationError(
                "not_open", status=SellerMigrationStatus(migration.status).label
            )
        if migration.cohort_start <= clock.today():
            raise SellerMigrationError("cohort_started")
        migration.items.filter(status__in=OPEN_MIGRATION_ITEM_STATUSES).update(
            status=SellerMigrationItemStatus.CANCELLED
        )
        migration.status = SellerMigrationStatus.CANCELLED
        migration.cancelled_at = clock.now()
        migration.cancelled_by = actor
        migration.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        audit_record(
            actor=actor,
            action=AuditAction.SELLER_MIGRATION_CANCELLED,
            subject_ref=(migration._meta.label_lower, migration.pk, str(migration.cohort_start)),
            details={
                "from_seller": migration.from_seller.name,
                "to_seller": migration.to_seller.name,
                "cohort_start": migration.cohort_start.isoformat(),
            },
        )
    return migration


# The notice.


def seller_details(*, seller: SellerEntity, currency: str) -> dict[str, str]:
    """What a billing contact needs to know of the new seller, for one currency."""
    account = seller.bank_accounts.filter(currency=currency).first()
    frozen = account.snapshot() if account else {"iban": "", "bic": ""}
    return seller.party() | {"currency": currency} | frozen


def _notice_context(
    *, migration: SellerMigration, tenant: Tenant, currency: str, to_admins: bool
) -> dict[str, Any]:
    """The notice's template context: JSON values only (the e-mail renders in a worker),
    dates already formatted in the tenant's language."""
    language = tenant.language or settings.LANGUAGE_CODE
    terms = TermsVersion.objects.filter(
        seller=migration.to_seller, version=migration.to_seller.terms_version
    ).first()
    seller = seller_details(seller=migration.to_seller, currency=currency)
    with translation.override(language):
        cohort_start = locale_format.date_format(migration.cohort_start, language)
        # The domestic numbers payers in the tenant's country expect beside IBAN and BIC.
        domestic = [
            [detail.label, detail.value]
            for detail in domestic_payment_details(seller, buyer_country=tenant.country)
        ]
    territories = Locale.parse(locale_format.babel_locale(language)).territories
    seller["country"] = territories.get(seller["country"], seller["country"])
    return {
        "tenant_name": tenant.name,
        "old_seller_name": migration.from_seller.name,
        "seller": seller,
        "domestic": domestic,
        "cohort_start": cohort_start,
        "terms_title": terms.title if terms else "",
        "terms_url": terms.url if terms else "",
        "to_admins": to_admins,
    }


def _notice_recipients(tenant: Tenant) -> tuple[list[str], bool]:
    """The billing contacts, or the tenant's admins when it has none (the flag says so)."""

    contacts = billing_contact_addresses(tenant=tenant)
    if contacts:
        return contacts, False
    with tenant_scope(tenant):
        return sorted(set(tenant_admin_emails(tenant=tenant))), True


def seller_migration_notify(
    *, migration: SellerMigration, actor: User | None = None, on: date | None = None
) -> int:
    """E-mail the notice to every tenant of the cohort not told yet; returns how many tenants
    this call told. One message per tenant, to all its billing contacts (its admins when it
    has none), in the tenant's language.

    Each item records who was told and when in the transaction that queues the e-mail, so a
    second call (or a concurrent one, which waits for the migration's row lock) tells nobody
    twice. A tenant with nobody to tell keeps its item open with a note, and a later call
    tries again. `on` is the day it runs for (default today: a replayed billing run passes
    its date).
    """
    today = on if on is not None else clock.today()
    with transaction.atomic(), scopes_disabled():
        migration = (
            SellerMigration.objects.select_for_update(of=("self",))
            .select_related("from_seller", "to_seller")
            .get(pk=migration.pk)
        )
        if migration.status not in OPEN_MIGRATION_STATUSES:
            raise SellerMigrationError(
                "not_open", status=SellerMigrationStatus(migration.status).label
            )
        if migration.cohort_start <= today:
            raise SellerMigrationError("notice_too_late")
        items = list(
            migration.items.filter(
                status=SellerMigrationItemStatus.SCHEDULED, notified_at__isnull=True
            ).select_related("tenant")
        )
        now = clock.now()
        told = 0
        for item in items:
            recipients, to_admins = _notice_recipients(item.tenant)
            if not recipients:
                item.note = "Nobody to notify: no billing contacts and no active administrators."
                logger.error(
                    "Seller migration %s: tenant %s has no billing contacts and no admins",
                    migration.pk,
                    item.tenant_id,
                )
                continue
            mail_enqueue(
                to=recipients,
                template=NOTICE_TEMPLATE,
                context=_notice_context(
                    migration=migration,
                    tenant=item.tenant,
                    currency=item.currency,
                    to_admins=to_admins,
                ),
                language=item.tenant.language or settings.LANGUAGE_CODE,
                tenant=item.tenant,
                dedupe_key=f"{NOTICE_TEMPLATE}:{item.pk}",
            )
            item.status = SellerMigrationItemStatus.NOTIFIED
            item.notified_at = now
            item.notice_recipients = recipients
            item.note = "No billing contacts: told the administrators." if to_admins else ""
            told += 1
        SellerMigrationItem.objects.bulk_update(
            items, ["status", "notified_at", "notice_recipients", "note"]
        )
        if migration.status == SellerMigrationStatus.SCHEDULED:
            migration.status = SellerMigrationStatus.NOTIFIED
            migration.notified_at = now
            migration.save(update_fields=["status", "notified_at"])
        for item in items:
            if item.notified_at == now:
                audit_record(
                    actor=actor,
                    action=AuditAction.SELLER_MIGRATION_NOTIFIED,
                    tenant=item.tenant,
                    details={"migration": migration.pk, "recipients": item.notice_recipients},
                )
    return told


def seller_migrations_notify_due(*, on: date) -> dict[str, int]:
    """Notify every scheduled cohort whose notice is due on `on` (at the latest
    `notice_days` before it starts) and that has not started yet. For the daily run."""
    with scopes_disabled():
        due = [
            migration
            for migration in SellerMigration.objects.filter(
                status=SellerMigrationStatus.SCHEDULED, cohort_start__gt=on
            )
            if migration.cohort_start - timedelta(days=migration.notice_days) <= on
        ]
    told = notified = 0
    for migration in due:
        try:
            told += seller_migration_notify(migration=migration, on=on)
        except SellerMigrationError as error:
            # Cancelled or notified meanwhile by an operator: nothing left to do here.
            logger.info("Seller migration %s not notified: %s", migration.pk, error)
            continue
        notified += 1
    return {"migrations_notified": notified, "tenants_notified": told}


# The switch.


def _switch_item(
    item_id: int, *, tenant_id: int, migration: SellerMigration, on: date
) -> str | None:
    """Move one item's subscription to the new seller under its row lock; returns the
    item's new status, or None when it was no longer open (done by another worker)."""
    with transaction.atomic(), tenant_scope(tenant_id):
        item = SellerMigrationItem.objects.select_for_update().get(pk=item_id)
        subscription = Subscription.objects.select_for_update().get(pk=item.subscription_id)
        if item.status not in OPEN_MIGRATION_ITEM_STATUSES:
            return None
        now = clock.now()
        problem = ""
        if subscription.seller_id != migration.from_seller_id:
            problem = "The subscription has another seller now."
        elif subscription.status != SubscriptionStatus.ACTIVE:
            problem = "The subscription is no longer active."
        elif not migration.to_seller.bank_accounts.filter(currency=subscription.currency).exists():
            problem = f"{migration.to_seller.name} has no bank account in {subscription.currency}."
        if problem:
            item.status = SellerMigrationItemStatus.SKIPPED
            item.note = problem
            item.save(update_fields=["status", "note"])
            return item.status
        if subscription.period_start >= migration.cohort_start:
            # The rollover ran first: this period's renewal was ordered from the old seller.
            item.note = "Switched after the rollover: the renewal came from the old seller."
        subscription.seller = migration.to_seller
        # A new version: a quote made for the old seller (its VAT, its terms) is stale now.
        subscription.version_next()
        subscription.save(update_fields=["seller", "version", "updated_at"])
        item.status = SellerMigrationItemStatus.SWITCHED
        item.switched_at = now
        item.save(update_fields=["status", "switched_at", "note"])
        audit_record(
            actor=None,
            action=AuditAction.SUBSCRIPTION_SELLER_CHANGED,
            tenant=subscription.tenant,
            details={
                "migration": migration.pk,
                "from_seller": migration.from_seller.name,
                "to_seller": migration.to_seller.name,
                "on": on.isoformat(),
            },
        )
        return item.status


def seller_migrations_apply(*, on: date) -> dict[str, int]:
    """Switch the subscriptions of every notified cohort that has started by `on`.

    Call it on the cohort's first day before the rollover of that day (billing/runs.py), so
    the renewal order and its invoice come from the new seller. Idempotent: a switched item
    is not touched again, and a cohort is done once none of its items is open. A cohort that
    was never notified is not switched: it is counted in ``not_notified`` for the operator.
    """
    counts: Counter = Counter()
    with scopes_disabled():
        migrations = list(
            SellerMigration.objects.filter(
                status__in=OPEN_MIGRATION_STATUSES, cohort_start__lte=on
            ).select_related("from_seller", "to_seller")
        )
    for migration in migrations:
        if migration.status == SellerMigrationStatus.SCHEDULED:
            logger.error(
                "Seller migration %s starts %s but was never notified: not switched",
                migration.pk,
                migration.cohort_start,
            )
            counts["not_notified"] += 1
            continue
        with scopes_disabled():
            items = list(
                migration.items.filter(status__in=OPEN_MIGRATION_ITEM_STATUSES)
                .order_by("pk")
                .values_list("pk", "tenant_id")
            )
        for item_id, tenant_id in items:
            status = _switch_item(item_id, tenant_id=tenant_id, migration=migration, on=on)
            if status is not None:
                counts[status] += 1
        with transaction.atomic(), scopes_disabled():
            locked = SellerMigration.objects.select_for_update().get(pk=migration.pk)
            if (
                locked.status in OPEN_MIGRATION_STATUSES
                and not locked.items.filter(status__in=OPEN_MIGRATION_ITEM_STATUSES).exists()
            ):
                locked.status = SellerMigrationStatus.DONE
                locked.done_at = clock.now()
                locked.save(update_fields=["status", "done_at"])
                counts["migrations_done"] += 1
    return {
        "switched": counts[SellerMigrationItemStatus.SWITCHED],
        "skipped": counts[SellerMigrationItemStatus.SKIPPED],
        "migrations_done": counts["migrations_done"],
        "not_notified": counts["not_notified"],
    }


def seller_migrations_with_counts(*, migrations: QuerySet[SellerMigration]) -> QuerySet:
    """`migrations` with the number of items in each status as `<status>_count`."""
    return migrations.annotate(
        **{
            f"{status}_count": Count("items", filter=Q(items__status=status))
            for status in SellerMigrationItemStatus.values
        }
    )
