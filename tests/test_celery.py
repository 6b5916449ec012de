import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django_scopes import ScopeError, get_scope, scopes_disabled

from accounts.models import Membership
from accounts.tasks import notify_new_member
from severa.celery import app
from tests.factories import MembershipFactory


def test_long_jobs_survive_a_worker_crash_by_configuration():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    # Longer than the longest task and the longest retry countdown (1 hour).
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.broker_transport_options["visibility_timeout"] > 3600


@pytest.mark.django_db
def test_a_tenant_task_sees_only_its_tenants_rows(tenant, other_tenant):
    with scopes_disabled():
        admin = MembershipFactory(tenant=tenant, role="admin").user
        member = MembershipFactory(tenant=tenant)
    assert notify_new_member.apply(
        kwargs={"tenant_id": tenant.pk, "membership_id": member.pk}
    ).get() == [admin.email]
    with pytest.raises(Membership.DoesNotExist):
        notify_new_member.apply(
            kwargs={"tenant_id": other_tenant.pk, "membership_id": member.pk}
        ).get()
    assert get_scope() == {}


def test_a_tenant_task_without_a_tenant_is_refused():
    with pytest.raises(ValueError, match="needs a tenant_id"):
        notify_new_member.apply(kwargs={"membership_id": 1}).get()


@pytest.mark.django_db
def test_code_outside_any_scope_cannot_read_tenant_rows():
    with pytest.raises(ScopeError):
        Membership.objects.first()


@pytest.fixture
def redis_worker(settings):
    """A real Celery worker thread consuming from Redis (not eager)."""
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = settings.REDIS_URL
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ) as worker:
        yield worker
    app.conf.task_always_eager, app.conf.broker_url = previous


@pytest.mark.serial  # a real Celery worker, waited for with a deadline
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_carries_no_tenant_from_one_task_into_the_next(
    redis_worker, tenant, other_tenant
):
    import time

    with scopes_disabled():
        admin = MembershipFactory(tenant=tenant, role="admin").user
        member = MembershipFactory(tenant=tenant)
        other_admin = MembershipFactory(tenant=other_tenant, role="admin").user
        other_member = MembershipFactory(tenant=other_tenant)
    mail.outbox = []
    notify_new_member.delay(tenant_id=tenant.pk, membership_id=member.pk)
    # Tenant B's task pointing at tenant A's membership must find nothing.
    notify_new_member.delay(tenant_id=other_tenant.pk, membership_id=member.pk)
    notify_new_member.delay(tenant_id=other_tenant.pk, membership_id=other_member.pk)
    deadline = time.monotonic() + 20
    while len(mail.outbox) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([admin.email, other_admin.email])
