from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from billing.bank_accounts import SELLER_BANK_ACCOUNT_FIELDS, seller_bank_account_clean
from billing.models import BillingContact, BillingDetails, SellerBankAccount, SellerEntity
from severa.identifiers import IdentifierError, peppol_id_clean


class SellerBankAccountForm(forms.ModelForm):
    """Checks the account on entry (billing.bank_accounts) and stores the clean forms."""

    # Typed with separators (8601.11.17947, 1234-5674): longer than the digits stored.
    domestic_account_number = forms.CharField(max_length=20, required=False)
    bankgiro = forms.CharField(max_length=20, required=False)
    plusgiro = forms.CharField(max_length=20, required=False)

    class Meta:
        model = SellerBankAccount
        fields = ["currency", *SELLER_BANK_ACCOUNT_FIELDS]

    def clean(self) -> dict:
        data = super().clean()
        try:
            clean = seller_bank_account_clean(currency=data.get("currency", ""), data=data)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                for message in messages:
                    self.add_error(name, message)
            return data
        data.update(clean)
        return data


class SellerEntityForm(forms.ModelForm):
    """Checks the seller's own Peppol id on entry, as a buyer's is checked."""

    class Meta:
        model = SellerEntity
        exclude: list[str] = []

    def clean_peppol_id(self) -> str:
        try:
            return peppol_id_clean(self.cleaned_data.get("peppol_id", ""))
        except IdentifierError as error:
            raise ValidationError(error.message) from None


class BankAccountInline(admin.TabularInline):
    model = SellerBankAccount
    form = SellerBankAccountForm
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
        "peppol_id",
    ]
    form = SellerEntityForm
    inlines = [BankAccountInline]


@admin.register(BillingDetails)
class BillingDetailsAdmin(admin.ModelAdmin):
    list_display = ["tenant", "city", "country", "einvoice_address", "peppol_id", "updated_at"]
    search_fields = ["tenant__name", "einvoice_address", "peppol_id"]


@admin.register(BillingContact)
class BillingContactAdmin(admin.ModelAdmin):
    list_display = ["tenant", "user", "email", "name", "created_at"]
    search_fields = ["tenant__name", "email", "user__email"]


# Seller migration: terms of service, acceptances and cohorts (billing/migration.py).
from django.db import models  # noqa: E402

from billing.models import (  # noqa: E402
    SellerMigration,
    SellerMigrationItem,
    TermsAcceptance,
    TermsVersion,
)


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ["seller", "version", "title", "published_on"]
    list_filter = ["seller"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(admin.ModelAdmin):
    """The record of who accepted which terms: read-only."""

    list_display = ["tenant", "seller", "version", "accepted_by", "accepted_at"]
    search_fields = ["tenant__name", "accepted_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SellerMigrationItemInline(admin.TabularInline):
    model = SellerMigrationItem
    fields = ["tenant", "currency", "status", "notified_at", "switched_at", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SellerMigration)
class SellerMigrationAdmin(admin.ModelAdmin):
    """Read-only: cohorts are scheduled, notified and cancelled on the operator pages, where
    the rules are applied."""

    list_display = ["cohort_start", "from_seller", "to_seller", "status", "notified_at"]
    list_filter = ["status"]
    inlines = [SellerMigrationItemInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
