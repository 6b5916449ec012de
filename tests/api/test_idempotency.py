import threading

import pytest
from django.db import connection
from django.test import Client
from django_scopes import scopes_disabled

from accounts.models import Invitation
from accounts.services import api_token_create
from api.idempotency import idempotency_keys_expire
from api.models import IdempotencyKey
from severa import clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(admin_user, tenant, no_two_factor):
    _t, key = api_token_create(user=admin_user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def _post(client, tenant, body, key="key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        f"/api/v1/tenants/{tenant.pk}/invitations", body, content_type="application/json", **headers
    )


def _invitations():
    with scopes_disabled():
        return Invitation.objects.count()


def test_same_key_same_body_replays_the_first_response(admin_api, tenant):
    first = _post(admin_api, tenant, {"email": "a@example.test"})
    second = _post(admin_api, tenant, {"email": "a@example.test"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert _invitations() == 1


def test_same_key_another_body_is_a_422_and_changes_nothing(admin_api, tenant):
    _post(admin_api, tenant, {"email": "a@example.test"})
    response = _post(admin_api, tenant, {"email": "b@example.test"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert _invitations() == 1


def test_keys_are_per_tenant(admin_api, tenant, other_tenant, other_admin, no_two_factor):
    _t, key = api_token_create(user=other_admin)
    other_api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert _post(admin_api, tenant, {"email": "a@example.test"}).status_code == 201
    assert _post(other_api, other_tenant, {"email": "a@example.test"}).status_code == 201
    assert _invitations() == 2


def test_without_a_key_each_post_acts(admin_api, tenant):
    _post(admin_api, tenant, {"email": "a@example.test"}, key=None)
    _post(admin_api, tenant, {"email": "b@example.test"}, key=None)
    assert _invitations() == 2


def test_a_failed_request_can_be_retried_with_the_same_key(admin_api, tenant):
    assert _post(admin_api, tenant, {"email": "broken"}).status_code == 400
    assert _post(admin_api, tenant, {"email": "broken"}).status_code == 400
    assert IdempotencyKey.objects.count() == 0


def test_keys_expire(admin_api, tenant):
    import datetime

    _post(admin_api, tenant, {"email": "a@example.test"})
    with clock.frozen(clock.now() + datetime.timedelta(hours=25)):
        assert idempotency_keys_expire() == 1
        response = _post(admin_api, tenant, {"email": "b@example.test"})
    assert response.status_code == 201
    assert _invitations() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_invitation(admin_user, tenant, no_two_factor):
    _t, key = api_token_create(user=admin_user)
    results: list[int] = []
    barrier = threading.Barrier(6)

    def send():
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        barrier.wait()
        try:
            response = _post(client, tenant, {"email": "race@example.test"}, key="race")
            results.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _invitations() == 1
    assert results.count(201) >= 1
    assert set(results) <= {201, 409}
