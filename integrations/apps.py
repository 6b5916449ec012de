from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from integrations.connectors import connector_register
        from integrations.eaccounting.connector import EEkonomiConnector
        from integrations.fortnox.connector import FortnoxConnector
        from integrations.visma_global.connector import VismaGlobalConnector
        from integrations.vismanet.connector import VismaNetConnector

        connector_register("fortnox", FortnoxConnector)
        connector_register("visma_eekonomi", EEkonomiConnector)
        connector_register("visma_global", VismaGlobalConnector)
        connector_register("visma_net", VismaNetConnector)
