"""Tenant pages and API: throughput and queries per request at two data sizes."""

from bench.harness import bench_database, rate


def main() -> dict:
    with bench_database():
        from django.core.signals import request_started
        from django.db import connection, reset_queries
        from django.test import Client
        from django_otp.plugins.otp_totp.models import TOTPDevice
        from django_scopes import scopes_disabled

        from accounts.services import api_token_create
        from tests.factories import MembershipFactory, TenantFactory

        # Django clears the query log when a request starts; keep it for counting.
        request_started.disconnect(reset_queries)
        figures: dict = {}
        for size in (10, 200):
            with scopes_disabled():
                tenant = TenantFactory()
                admin = MembershipFactory(tenant=tenant, role="admin").user
                for _ in range(size - 1):
                    MembershipFactory(tenant=tenant)
            device = TOTPDevice.objects.create(user=admin, name="bench", confirmed=True)
            browser = Client()
            browser.force_login(admin, backend="accounts.request_cache.CachedModelBackend")
            session = browser.session
            session["otp_device_id"] = device.persistent_id
            session.save()
            _token, key = api_token_create(user=admin)
            api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
            for label, client, path in (
                ("users_page", browser, f"/t/{tenant.pk}/users/"),
                ("api_users", api, f"/api/v1/tenants/{tenant.pk}/users?limit=50"),
            ):
                connection.force_debug_cursor = True
                before = len(connection.queries_log)
                assert client.get(path).status_code == 200
                queries = list(connection.queries_log)[before:]
                connection.force_debug_cursor = False
                per_second, count = rate(lambda c=client, p=path: c.get(p))
                figures[f"{label}_{size}_users_queries"] = len(queries)
                figures[f"{label}_{size}_users_requests_per_s"] = round(per_second, 1)
        return figures
