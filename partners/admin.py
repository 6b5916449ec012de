"""Partner rows (§3.8) for the operators: read-mostly; writes go through the portal."""

from django.contrib import admin

from partners.models import (
    Engagement,
    PartnerActivation,
    PartnerInvitation,
    PartnerTermsAcceptance,
    PartnerTermsVersion,
    SupportRequest,
)


@admin.register(Engagement)
class EngagementAdmin(admin.ModelAdmin):
    list_display = ["name", "partner", "customer", "created_at"]
    list_select_related = ["partner", "customer"]


@admin.register(PartnerActivation)
class PartnerActivationAdmin(admin.ModelAdmin):
    list_display = ["tenant", "partner", "scenario", "status", "edition", "created_at"]
    list_filter = ["status", "scenario"]
    exclude = ["token_hash"]
    readonly_fields = ["approved_at", "approved_by", "subscription"]


@admin.register(PartnerInvitation)
class PartnerInvitationAdmin(admin.ModelAdmin):
    list_display = ["tenant", "partner", "email", "created_at", "accepted_at"]
    exclude = ["token_hash"]


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    list_display = ["tenant", "partner", "requested_edition", "status", "created_at"]
    list_filter = ["status"]


# Partner terms (partners/services/invitations.py): versions, and who accepted which.


@admin.register(PartnerTermsVersion)
class PartnerTermsVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "published_on"]


@admin.register(PartnerTermsAcceptance)
class PartnerTermsAcceptanceAdmin(admin.ModelAdmin):
    """The record of who accepted which partner terms: read-only."""

    list_display = ["partner", "version", "accepted_by", "accepted_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
