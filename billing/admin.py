from django.contrib import admin

from billing.models import SellerBankAccount, SellerEntity


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
