import pytest
from celery._state import _set_task_join_will_block
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.utils import translation
from django_scopes import scopes_disabled

from tests.factories import (
    MembershipFactory,
    OperatorFactory,
    TenantFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _clean_cache_and_mail():
    # django-axes keeps failed sign-ins in the database and the cache: start each test clean.
    cache.clear()
    mail.outbox = []
    yield
    # A request in another language leaves it active in this thread (LocaleMiddleware does
    # not reset it): the next test starts in the default language.
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _outside_any_task():
    # Celery marks "inside an eager task" (where `.get()` is refused) in one flag for the whole
    # process, not per thread: two threads running eager tasks at once can leave it set when a
    # busy machine interleaves them, and every later `.get()` in that process would fail.
    _set_task_join_will_block(False)


@pytest.fixture
def unscoped():
    """Build test data across tenants (the tests' own set-up, never the code under test)."""
    with scopes_disabled():
        yield


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Aalto Consulting Oy")


@pytest.fixture
def other_tenant(db):
    """The second tenant every test data set holds: it must stay invisible."""
    return TenantFactory(name="Charlie Competitor Oy")


@pytest.fixture
def admin_user(tenant, settings):
    with scopes_disabled():
        return MembershipFactory(tenant=tenant, role="admin").user


@pytest.fixture
def member_user(tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=tenant, role="member").user


@pytest.fixture
def other_admin(other_tenant):
    with scopes_disabled():
        return MembershipFactory(tenant=other_tenant, role="admin").user


@pytest.fixture
def operator(db):
    return OperatorFactory()


@pytest.fixture
def plain_user(db):
    return UserFactory()


@pytest.fixture
def no_two_factor(settings):
    settings.TWO_FACTOR_REQUIRED = False


@pytest.fixture
def verified_client(client):
    """A logged-in client whose session counts as two-factor verified."""

    def login(user):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        client.force_login(user, backend="accounts.request_cache.CachedModelBackend")
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        return client

    return login
