from django.contrib import admin

from integrations.models import Connection, SyncRun, Transfer

# The stored credentials never appear in the admin, not even encrypted.
SECRET_FIELDS = ("access_token_encrypted", "refresh_token_encrypted")


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["tenant", "system", "status", "status_reason", "last_synced_at"]
    list_filter = ["system", "status"]
    search_fields = ["tenant__name"]
    exclude = SECRET_FIELDS
    readonly_fields = [
        "tenant",
        "system",
        "auth_kind",
        "remote_tenant_id",
        "token_expires_at",
        "token_scope",
        "authorized_at",
        "authorized_by",
        "activated_at",
        "last_synced_at",
        "created_at",
        "updated_at",
    ]


class TransferInline(admin.TabularInline):
    model = Transfer
    extra = 0
    can_delete = False
    fields = ["entity_type", "direction", "label", "outcome", "reason", "remote_id"]
    readonly_fields = fields


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "tenant", "connection", "trigger", "status", "created_at", "finished_at"]
    list_filter = ["status", "trigger"]
    readonly_fields = [field.name for field in SyncRun._meta.fields]
    inlines = [TransferInline]
