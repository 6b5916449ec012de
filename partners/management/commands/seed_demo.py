"""``manage.py seed_demo``: the demo data of every app (``partners.demo.demo_everything``)."""

from django.core.management.base import BaseCommand

from partners.demo import demo_everything
from subscriptions.demo import DEMO_PASSWORD


class Command(BaseCommand):
    help = "Create the demo sellers, catalog, tenants, partner and operator (idempotent)."

    def handle(self, *args, **options) -> None:
        logins = demo_everything()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Demo logins:"))
        self.stdout.write(f"  password for every demo user: {DEMO_PASSWORD}")
        for login in logins:
            otp = "  (one-time code: manage.py demo_otp_code " + login.username + ")"
            self.stdout.write(
                f"  {login.username:<16} {login.role:<9} {login.place}"
                + (otp if login.has_two_factor else "")
            )
