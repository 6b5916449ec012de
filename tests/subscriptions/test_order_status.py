"""An order's one status move, confirmed → invoiced: once, audited once; an order invoiced
already is left as it is and audited no more."""

import pytest
from django_scopes import scopes_disabled

from accounts.models import AuditEvent
from subscriptions.models import OrderConfirmation
from subscriptions.order_status import orders_mark_invoiced
from tests.factories import OrderConfirmationFactory

pytestmark = pytest.mark.django_db


def _moves():
    with scopes_disabled():
        return list(
            AuditEvent.objects.filter(action="order.invoiced")
            .order_by("pk")
            .values_list("tenant_id", "actor_kind", "subject_id", "subject_label")
        )


def test_an_order_is_marked_invoiced_once_and_audited_once(tenant, other_tenant):
    with scopes_disabled():
        first = OrderConfirmationFactory(tenant=tenant)
        second = OrderConfirmationFactory(tenant=other_tenant)
    assert orders_mark_invoiced(order_ids=[first.pk, second.pk, first.pk]) == 2
    assert _moves() == [
        (tenant.pk, "system", str(first.pk), first.number),
        (other_tenant.pk, "system", str(second.pk), second.number),
    ]
    # Marked again (a second worker, a run repeated): nothing moves, nothing is audited.
    assert orders_mark_invoiced(order_ids=[first.pk]) == 0
    assert orders_mark_invoiced(order_ids=[]) == 0
    with scopes_disabled():
        assert sorted(OrderConfirmation.objects.values_list("invoiced", flat=True)) == [True, True]
    assert len(_moves()) == 2
