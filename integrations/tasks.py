"""Integration jobs for Celery workers: one sync run, and the schedule that queues them."""

from celery import shared_task

from accounts.tenancy import TenantTask
from integrations.agents import agents_offline_mail as offline_mail
from integrations.models import SyncRun
from integrations.runs import sync_run_execute as run_execute
from integrations.runs import sync_runs_queue as runs_queue


@shared_task(base=TenantTask, name="integrations.sync_run_execute", acks_late=True)
def sync_run_execute(*, tenant_id: int, syncrun_id: int) -> str:
    """Execute one queued sync run; a redelivered message finds it finished or locked by the
    worker running it, and does nothing."""
    run = SyncRun.objects.filter(pk=syncrun_id).first()
    if run is None:
        return "missing"
    return run_execute(run=run).status


@shared_task(name="integrations.sync_runs_queue", acks_late=True)
def sync_runs_queue() -> int:
    """Celery beat: queue a scheduled run for every active connection."""
    return runs_queue()


@shared_task(name="integrations.agents_offline_mail", acks_late=True)
def agents_offline_mail() -> int:
    """Celery beat: tell the error addresses of agents silent for a day, once per outage."""

    return offline_mail()
