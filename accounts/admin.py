from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import (
    AuditEvent,
    Collaboration,
    Invitation,
    Membership,
    Partner,
    PartnerMembership,
    Tenant,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = [
        "username",
        "email",
        "first_name",
        "last_name",
        "is_superuser",
        "is_active",
        "last_login",
    ]
    readonly_fields = ["last_login", "previous_login_at", "date_joined"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "business_id", "vat_number", "created_at"]
    search_fields = ["name", "business_id", "vat_number"]
    list_filter = ["country"]
    inlines = [MembershipInline]


class PartnerMembershipInline(admin.TabularInline):
    model = PartnerMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "country", "business_id"]
    search_fields = ["name"]
    inlines = [PartnerMembershipInline]


@admin.register(Collaboration)
class CollaborationAdmin(admin.ModelAdmin):
    list_display = ["partner", "tenant", "engagement", "status", "created_at"]
    list_filter = ["status"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "tenant",
        "role",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    exclude = ["token_hash"]
    readonly_fields = ["created_at", "expires_at", "accepted_at", "accepted_by", "revoked_at"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "tenant", "partner", "actor_kind", "actor_label", "action"]
    list_filter = ["action", "actor_kind"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
