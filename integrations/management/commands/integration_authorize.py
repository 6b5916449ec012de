"""Authorise a tenant's connection as a service account (client credentials):

python manage.py integration_authorize --tenant 12 --system fortnox --remote-tenant-id 4711
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Tenant
from accounts.tenancy import tenant_scope
from integrations.errors import IntegrationError
from integrations.models import Connection
from integrations.oauth import client_credentials_authorize


class Command(BaseCommand):
    help = "Authorise a connection with client credentials (a service account) and activate it."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", type=int, required=True, help="The tenant's id.")
        parser.add_argument("--system", required=True, help="fortnox, visma_global, …")
        parser.add_argument("--remote-tenant-id", required=True)

    def handle(self, *args, tenant: int, system: str, remote_tenant_id: str, **options):
        tenant_row = Tenant.objects.filter(pk=tenant).first()
        if tenant_row is None:
            raise CommandError(f"No tenant {tenant}.")
        with tenant_scope(tenant_row):
            connection = Connection.objects.filter(system=system).first()
            if connection is None:
                raise CommandError(f"Tenant {tenant} has no {system} connection: set it up first.")
            try:
                connection = client_credentials_authorize(
                    connection=connection, remote_tenant_id=remote_tenant_id, actor=None
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
            except (IntegrationError, LookupError) as error:
                raise CommandError(f"The authorisation failed: {error}") from error
        self.stdout.write(f"Connection {connection.pk} is {connection.status}.")
