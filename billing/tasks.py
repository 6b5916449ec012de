"""Billing jobs for Celery workers: the daily run and the delivery of renewal orders.

Both are idempotent (acks late, so a worker killed mid-task gets the message redelivered):
the daily run's effects are guarded by unique keys and its runs are re-entrant
(`billing.runs`); delivering an order twice renders and sends it once
(`subscriptions.delivery`).
"""

from celery import shared_task

from billing.run_records import run_summary
from billing.runs import billing_run
from severa import clock
from subscriptions.tasks import order_confirmation_send


@shared_task(name="billing.daily_run", acks_late=True)
def daily_run() -> list[dict]:
    """Everything due up to today (Celery beat, every day at 03:00 Europe/Helsinki): the
    rollover, the weekly invoicing run on its weekday, overdue marking; days missed while
    the beat or the workers were down are caught up first."""
    return [run_summary(run) for run in billing_run(clock.today())]


@shared_task(name="billing.order_confirmations_send", acks_late=True)
def order_confirmations_send(*, orders: list[list[int]]) -> int:
    """Queue the delivery of a batch of orders ([tenant id, order id] pairs), one task per
    order so that each renders, sends and retries on its own."""
    for tenant_id, order_id in orders:
        order_confirmation_send.delay(tenant_id=tenant_id, order_id=order_id)
    return len(orders)
