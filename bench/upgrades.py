"""The Upgrades page and a quote (Adjust features → Agreement): queries per request at two
data sizes, then requests per second and latency percentiles against gunicorn with
concurrent clients (PERFORMANCE.md target: ≥ 300 requests/s, p99 < 50 ms at 20 clients).

The load generator runs on the same two cores as the server, so the figures are a lower
bound of what the server alone does.
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.harness import bench_database

CLIENTS = 20
SECONDS = 8.0
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _world(orders: int, users: int):
    import datetime

    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_scopes import scopes_disabled

    from billing.periods import period_for
    from severa import clock
    from subscriptions.services import Desired, quote_confirm, quote_create
    from tests.factories import MembershipFactory, SubscriptionFactory, TenantFactory

    period = period_for(datetime.date(2020, 1, 1), 12, clock.today())
    with scopes_disabled():
        tenant = TenantFactory()
        admin = MembershipFactory(tenant=tenant, role="admin").user
        for _ in range(users - 1):
            MembershipFactory(tenant=tenant)
        subscription = SubscriptionFactory(
            tenant=tenant,
            seats=users + orders + 5,
            period_months=12,
            period_start=period.start,
            period_end=period.end,
        )
        for index in range(orders):
            quote = quote_create(
                subscription=subscription,
                desired=Desired(seats=users + orders + 6 + index),
                by=admin,
            )
            quote_confirm(quote=quote, by=admin)
    device = TOTPDevice.objects.create(user=admin, name="bench", confirmed=True)
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return tenant, subscription, client


def _queries(client, method: str, path: str, data=None) -> int:
    from django.db import connection

    connection.force_debug_cursor = True
    before = len(connection.queries_log)
    response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    assert response.status_code in (200, 302), (path, response.status_code)
    count = len(connection.queries_log) - before
    connection.force_debug_cursor = False
    return count


def _load(base: str, cookies: dict, paths: list[tuple[str, str, dict | None]]) -> dict:
    import requests

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + SECONDS

    def client(number: int) -> None:
        nonlocal errors
        session = requests.Session()
        session.cookies.update(cookies)
        mine: list[float] = []
        failed = 0
        step = number
        while time.perf_counter() < deadline:
            method, path, data = paths[step % len(paths)]
            step += 1
            started = time.perf_counter()
            if method == "get":
                response = session.get(base + path, allow_redirects=False)
            else:
                response = session.post(
                    base + path,
                    data=data,
                    headers={"X-CSRFToken": cookies["csrftoken"], "Referer": base + path},
                    allow_redirects=False,
                )
            mine.append(time.perf_counter() - started)
            if response.status_code not in (200, 302):
                failed += 1
        with lock:
            latencies.extend(mine)
            errors += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "errors": errors,
    }


def main() -> dict:
    with bench_database():
        from django.conf import settings
        from django.core.signals import request_started
        from django.db import connection, reset_queries

        from tests.factories import catalog_create

        request_started.disconnect(reset_queries)
        catalog_create()
        figures: dict = {}
        worlds = {}
        for orders, users in ((1, 5), (40, 100)):
            tenant, subscription, client = _world(orders, users)
            worlds[orders] = (tenant, subscription, client)
            upgrades = f"/t/{tenant.pk}/upgrades/"
            adjust = f"/t/{tenant.pk}/upgrades/adjust/"
            figures[f"upgrades_page_queries_{orders}_orders_{users}_users"] = _queries(
                client, "get", upgrades
            )
            figures[f"adjust_page_queries_{orders}_orders_{users}_users"] = _queries(
                client, "get", adjust
            )
            form = {"seats": str(subscription.seats + 50), "storage_gb": "10", "next": "1"}
            figures[f"quote_queries_{orders}_orders_{users}_users"] = _queries(
                client, "post", adjust, form
            )

        tenant, subscription, client = worlds[40]
        client.get(f"/t/{tenant.pk}/upgrades/adjust/")  # sets the CSRF cookie
        cookies = {name: morsel.value for name, morsel in client.cookies.items()}
        port = _free_port()
        database = connection.settings_dict["NAME"]
        base_url = re.sub(r"/[^/]*$", f"/{database}", os.environ.get("DATABASE_URL", ""))
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "severa.settings.test",
            "DATABASE_URL": base_url or f"postgres://postgres@127.0.0.1:5432/{database}",
        }
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "severa.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=environment,
        )
        try:
            import requests

            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    requests.get(base + "/healthz", timeout=10)
                    break
                except requests.RequestException:
                    time.sleep(0.1)
            upgrades = f"/t/{tenant.pk}/upgrades/"
            adjust = f"/t/{tenant.pk}/upgrades/adjust/"
            figures["upgrades_page"] = _load(base, cookies, [("get", upgrades, None)])
            quote = {"seats": str(subscription.seats + 50), "storage_gb": "10", "next": "1"}
            figures["quote"] = _load(base, cookies, [("post", adjust, quote)])
            figures["clients"] = CLIENTS
            figures["server"] = "gunicorn, 2 sync workers, same machine as the clients"
            figures["debug"] = settings.DEBUG
        finally:
            server.terminate()
            server.wait(timeout=10)
        return figures
