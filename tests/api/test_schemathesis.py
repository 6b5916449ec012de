"""Property-based fuzzing of the whole /api/v1/ surface with schemathesis.

The schema is the one the project serves itself (drf-spectacular at /api/v1/schema/), loaded
through the project's own WSGI application, and every request goes through that same
application in-process, inside the test's database transaction.

The caller is a tenant admin with a bearer token. Path parameters are steered so most requests
hit the admin's own tenant and existing rows (where the interesting code runs), some hit the
other tenant's rows (which must stay invisible: 404) and the rest keep schemathesis' values.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Role
from accounts.services import api_token_create, invitation_create
from accounts.tenancy import tenant_scope
from billing.issuing import credit_note_issue
from severa import clock
from severa.periods import period_for
from subscriptions.models import ScheduledChange
from subscriptions.services import Desired, quote_confirm, quote_create
from tests.factories import MembershipFactory, SubscriptionFactory, invoice_create

SCHEMA_PATH = "/api/v1/schema/?format=json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler recycles database connections at each request's start and end, which
    would close the connection holding the test's transaction: Django's test client switches
    that off for the same reason."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@dataclass(frozen=True)
class ApiWorld:
    token: str
    tenant_id: int
    other_tenant_id: int
    membership_ids: tuple[int, ...]
    other_membership_id: int
    invitation_ids: tuple[int, ...]
    other_invitation_id: int
    quote_ids: tuple[int, ...]
    other_quote_id: int
    scheduledchange_ids: tuple[int, ...]
    other_scheduledchange_id: int
    invoice_ids: tuple[int, ...]
    other_invoice_id: int


def _subscription_with_quotes(tenant, user) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A subscription in today's period with a confirmed seat decrease (a scheduled change)
    and an open quote: (quote ids, scheduled change ids)."""
    period = period_for(datetime.date(2025, 1, 1), 3, clock.today())
    with tenant_scope(tenant):
        subscription = SubscriptionFactory(
            tenant=tenant, seats=5, period_start=period.start, period_end=period.end
        )
        decrease = quote_create(subscription=subscription, desired=Desired(seats=4), actor=user)
        quote_confirm(quote=decrease, actor=user)
        subscription.refresh_from_db()
        increase = quote_create(subscription=subscription, desired=Desired(seats=7), actor=user)
        changes = tuple(ScheduledChange.objects.values_list("pk", flat=True))
    return (decrease.pk, increase.pk), changes


@pytest.fixture
def api_world(tenant, other_tenant, admin_user, member_user, other_admin, settings):
    settings.TWO_FACTOR_REQUIRED = False
    with scopes_disabled():
        # A user who never signed in: last_login is null.
        MembershipFactory(tenant=tenant, role=Role.BILLING)
        memberships = tuple(tenant.memberships.order_by("pk").values_list("pk", flat=True))
        other_membership = other_tenant.memberships.get(user=other_admin)
    with tenant_scope(tenant):
        invitation, _ = invitation_create(
            tenant=tenant, email="pending@example.test", role=Role.MEMBER, actor=admin_user
        )
    with tenant_scope(other_tenant):
        other_invitation, _ = invitation_create(
            tenant=other_tenant,
            email="theirs@example.test",
            role=Role.MEMBER,
            actor=other_admin,
        )
    quotes, changes = _subscription_with_quotes(tenant, admin_user)
    other_quotes, other_changes = _subscription_with_quotes(other_tenant, other_admin)
    invoices, other_invoices = _invoices(tenant), _invoices(other_tenant)
    _token, key = api_token_create(user=admin_user)
    return ApiWorld(
        token=key,
        tenant_id=tenant.pk,
        other_tenant_id=other_tenant.pk,
        membership_ids=memberships,
        other_membership_id=other_membership.pk,
        invitation_ids=(invitation.pk,),
        other_invitation_id=other_invitation.pk,
        quote_ids=quotes,
        other_quote_id=other_quotes[1],
        scheduledchange_ids=changes,
        other_scheduledchange_id=other_changes[0],
        invoice_ids=invoices,
        other_invoice_id=other_invoices[0],
    )


def _invoices(tenant) -> tuple[int, ...]:
    """An invoice and a credit note of part of it: (invoice id, credit note id)."""
    with scopes_disabled():
        invoice = invoice_create(tenant)
        note = credit_note_issue(
            invoice=invoice, lines={invoice.lines.get().pk: Decimal("10.00")}, actor=None
        )
    return invoice.pk, note.pk


def _steer(value, own: tuple[int, ...], foreign: int):
    """Mostly one of ``own``; one id in five becomes ``foreign`` and one in five is kept as
    generated. Anything but an id (negative cases send "null", "0.5", ...) is kept."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # the coverage phase sends path ids as strings
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    bucket = value % 5
    if bucket == 1:
        return foreign
    if bucket == 2:
        return value
    return own[value % len(own)]


# Loaded at collection through the project's own WSGI application; serving the schema touches
# neither the database nor the cache. (schemathesis' lazy ``from_fixture`` loader does not run
# under pytest 9: it rewrites ``Node._nodeid``, which pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_api_conforms_to_its_schema_and_never_errors(case, api_world):
    parameters = case.path_parameters
    if parameters:
        steering = {
            "tenant_id": ((api_world.tenant_id,), api_world.other_tenant_id),
            "membership_id": (api_world.membership_ids, api_world.other_membership_id),
            "invitation_id": (api_world.invitation_ids, api_world.other_invitation_id),
            "quote_id": (api_world.quote_ids, api_world.other_quote_id),
            "scheduledchange_id": (
                api_world.scheduledchange_ids,
                api_world.other_scheduledchange_id,
            ),
            "invoice_id": (api_world.invoice_ids, api_world.other_invoice_id),
        }
        for name, (own, foreign) in steering.items():
            if name in parameters:
                parameters[name] = _steer(parameters[name], own, foreign)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {api_world.token}"}, checks=CHECKS
    )
    # Tenant isolation: another tenant's ids never answer with data.
    foreign = {
        "tenant_id": api_world.other_tenant_id,
        "membership_id": api_world.other_membership_id,
        "invitation_id": api_world.other_invitation_id,
        "quote_id": api_world.other_quote_id,
        "scheduledchange_id": api_world.other_scheduledchange_id,
        "invoice_id": api_world.other_invoice_id,
    }
    if parameters and any(parameters.get(name) == value for name, value in foreign.items()):
        assert response.status_code >= 400, (case.path, parameters, response.status_code)


@pytest.mark.parametrize("resource", ["users", "invitations"])
@pytest.mark.parametrize(
    "query",
    ["limit=99999999999999999999", "limit=9223372036854775808&offset=1", "offset=10000000000000"],
)
def test_paging_beyond_postgres_bigint_is_not_a_server_error(client, api_world, resource, query):
    """Found by probing past the fuzzer: an uncapped ``limit`` reached PostgreSQL as LIMIT and
    failed with "bigint out of range". The page size is capped now."""
    response = client.get(
        f"/api/v1/tenants/{api_world.tenant_id}/{resource}?{query}",
        headers={"authorization": f"Bearer {api_world.token}"},
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) <= 500
