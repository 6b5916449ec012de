"""The Upgrades page, a quote (Adjust features → Agreement), the Agreement page and the invoice
list: queries per request at two data sizes; CPU ms per request in this process (the Django
handler called directly, the median of five rounds); then, against gunicorn (2 workers) with
20 concurrent clients, each page's requests per second beside `/healthz` in the same run
(`ratio_to_healthz`, target ≥ 0.4), p50 and p99 (target: p99 ≤ 4 × p50) and the workers' CPU
ms per request. The machine's load average is reported with the figures.

The load generator runs on the same two cores as the server, so the figures are a lower
bound of what the server alone does.
"""

import itertools
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
CPU_ROUNDS = 5
CPU_REQUESTS_PER_ROUND = 40
INVOICES = 60
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

    from severa import clock
    from severa.periods import period_for
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
                actor=admin,
            )
            quote_confirm(quote=quote, actor=admin)
    device = TOTPDevice.objects.create(user=admin, name="bench", confirmed=True)
    client = Client()
    client.force_login(admin, backend="accounts.request_cache.CachedModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return tenant, subscription, client


def _in_process(cookies: dict, method: str, path: str, data=None) -> float:
    """CPU ms per request of the Django handler called directly (median of the rounds)."""
    import io
    from urllib.parse import urlencode

    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    calls = itertools.count()

    def call() -> None:
        body = urlencode((data(next(calls)) if callable(data) else data) or {}).encode()
        environ = {
            "REQUEST_METHOD": method.upper(),
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "HTTP_COOKIE": cookie,
            "HTTP_X_CSRFTOKEN": cookies["csrftoken"],
            "HTTP_REFERER": f"http://testserver{path}",
        }
        statuses: list[str] = []
        b"".join(handler(environ, lambda status, headers, *_: statuses.append(status)))
        assert statuses[0][:3] in ("200", "302"), (path, statuses[0])

    for _ in range(10):
        call()
    rounds = []
    for _ in range(CPU_ROUNDS):
        started = time.process_time()
        for _ in range(CPU_REQUESTS_PER_ROUND):
            call()
        rounds.append((time.process_time() - started) * 1000 / CPU_REQUESTS_PER_ROUND)
    return round(statistics.median(rounds), 2)


def _worker_cpu_seconds(master: int) -> float:
    """User + system CPU seconds of the gunicorn master's worker processes (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def _queries(client, method: str, path: str, data=None) -> int:
    from django.db import connection

    connection.force_debug_cursor = True
    before = len(connection.queries_log)
    response = getattr(client, method)(path, data) if data else getattr(client, method)(path)
    assert response.status_code in (200, 302), (path, response.status_code)
    count = len(connection.queries_log) - before
    connection.force_debug_cursor = False
    return count


def _load(base: str, cookies: dict, paths: list[tuple[str, str, object]], master: int) -> dict:
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
                    data=data(step * CLIENTS + number) if callable(data) else data,
                    headers={"X-CSRFToken": cookies["csrftoken"], "Referer": base + path},
                    allow_redirects=False,
                )
            mine.append(time.perf_counter() - started)
            if response.status_code not in (200, 302):
                failed += 1
        with lock:
            latencies.extend(mine)
            errors += failed

    cpu_before = _worker_cpu_seconds(master)
    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cpu = _worker_cpu_seconds(master) - cpu_before
    p50 = statistics.median(latencies)
    p99 = _percentile(latencies, 0.99)
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(p50 * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "p99_over_p50": round(p99 / p50, 2),
        "worker_cpu_ms_per_request": round(cpu * 1000 / len(latencies), 2),
        "errors": errors,
    }


def main() -> dict:
    with bench_database():
        from django.conf import settings
        from django.core.signals import request_started
        from django.db import connection, reset_queries
        from django_scopes import scopes_disabled

        from tests.factories import catalog_create, invoice_create

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
        with scopes_disabled():
            for _ in range(INVOICES):
                invoice_create(tenant)
        client.get(f"/t/{tenant.pk}/upgrades/adjust/")  # sets the CSRF cookie
        cookies = {name: morsel.value for name, morsel in client.cookies.items()}
        upgrades = f"/t/{tenant.pk}/upgrades/"
        adjust = f"/t/{tenant.pk}/upgrades/adjust/"
        invoices = f"/t/{tenant.pk}/billing/"
        quote = {"seats": str(subscription.seats + 50), "storage_gb": "10", "next": "1"}
        agreement = client.post(adjust, quote)["Location"]
        pages: dict[str, tuple[str, str, object]] = {
            "healthz": ("get", "/healthz", None),
            "upgrades_page": ("get", upgrades, None),
            "quote": ("post", adjust, quote),
            # Other seats on every request: a new Agreement each time, never one given back.
            "new_quote": ("post", adjust, lambda n: quote | {"seats": str(1000 + n % 5000)}),
            "agreement_page": ("get", agreement, None),
            "invoice_list": ("get", invoices, None),
        }
        figures["cpu_ms_per_request_in_process"] = {
            name: _in_process(cookies, method, path, data)
            for name, (method, path, data) in pages.items()
        }
        figures["load_average_before"] = [round(value, 2) for value in os.getloadavg()]
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
            for name, page in pages.items():
                figures[name] = _load(base, cookies, [page], server.pid)
            healthz = figures["healthz"]["requests_per_s"]
            for name in pages:
                figures[name]["ratio_to_healthz"] = round(
                    figures[name]["requests_per_s"] / healthz, 2
                )
            figures["load_average_after"] = [round(value, 2) for value in os.getloadavg()]
            figures["cpus"] = os.cpu_count()
            figures["clients"] = CLIENTS
            figures["server"] = "gunicorn, 2 sync workers, same machine as the clients"
            figures["debug"] = settings.DEBUG
        finally:
            server.terminate()
            server.wait(timeout=10)
        return figures
