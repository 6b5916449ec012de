from django.contrib import admin

from billing.models import BillingContact, BillingDetails, SellerBankAccount, SellerEntity


class BankAccountInline(admin.TabularInline):
    model = SellerBankAccount
    extra = 0


@admin.register(SellerEntity)
class SellerEntityAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "country",
        "business_id",
        "vat_number",
        "payment_terms_days",
        "invoice_series",
        "terms_version",
    ]
    inlines = [BankAccountInline]


@admin.register(BillingDetails)
class BillingDetailsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "city", "country", "einvoice_address", "peppol_id", "updated_at"]
    search_fields = ["tenant__name", "einvoice_address", "peppol_id"]


@admin.register(BillingContact)
class BillingContactAdmin(admin.ModelAdmin):
    list_display = ["tenant", "user", "email", "name", "created_at"]
    search_fields = ["tenant__name", "email", "user__email"]
