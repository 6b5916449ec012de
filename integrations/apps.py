from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Models and connectors load only once the app registry is ready.
        from accounts.hooks import page_section_register
        from accounts.tenancy import MANAGING_ROLES
        from billing.rollover import rollover_done
        from integrations.connections import connections_pause_after_rollover
        from integrations.connectors import connector_register
        from integrations.eaccounting.connector import EEkonomiConnector
        from integrations.fortnox.connector import FortnoxConnector
        from integrations.health import connections_health, failing_connections
        from integrations.visma_global.connector import VismaGlobalConnector
        from integrations.vismanet.connector import VismaNetConnector

        connector_register("fortnox", FortnoxConnector)
        connector_register("visma_eekonomi", EEkonomiConnector)
        connector_register("visma_global", VismaGlobalConnector)
        connector_register("visma_net", VismaNetConnector)
        page_section_register(
            page="tenant_home",
            name="integrations",
            roles=MANAGING_ROLES,
            read=lambda request: connections_health(request.tenant),
        )
        page_section_register(
            page="operator_home",
            name="failing_connections",
            read=lambda request: failing_connections(),
        )
        rollover_done.connect(
            connections_pause_after_rollover, dispatch_uid="integrations.pause_after_rollover"
        )
