"""``manage.py seed_demo``: the demo data of every app. It lives in the partners app, the
highest the demo covers, so that it may call each app's seed: ``subscriptions.demo`` (which
seeds billing's and records' demo rows too), then ``partners.demo``."""

from django.core.management.base import BaseCommand
from django.db import transaction

from partners.demo import partners_demo_seed
from subscriptions.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo sellers, catalog, tenants, partner and operator (idempotent)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            logins = demo_seed()
            partners_demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Demo logins:"))
        self.stdout.write(f"  password for every demo user: {DEMO_PASSWORD}")
        for login in logins:
            otp = "  (one-time code: manage.py demo_otp_code " + login.username + ")"
            self.stdout.write(
                f"  {login.username:<16} {login.role:<9} {login.place}"
                + (otp if login.has_two_factor else "")
            )
