from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.locale_format import money_format
from subscriptions.models import (
    AddOn,
    Edition,
    Interface,
    OrderConfirmation,
    OrderLine,
    Price,
    ScheduledChange,
    StorageTier,
    Subscription,
)


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    fields = ["currency", "amount_per_month", "valid_from", "valid_until"]


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "rank", "included_storage_gb"]
    inlines = [PriceInline]


@admin.register(AddOn)
class AddOnAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "pricing", "minimum_edition"]
    filter_horizontal = ["included_in"]
    inlines = [PriceInline]


@admin.register(Interface)
class InterfaceAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "system"]
    inlines = [PriceInline]


@admin.register(StorageTier)
class StorageTierAdmin(admin.ModelAdmin):
    list_display = ["gigabytes", "code"]
    inlines = [PriceInline]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["__str__", "currency", "amount_shown", "valid_from", "valid_until"]
    list_filter = ["currency"]

    @admin.display(description=_("Amount per month"), ordering="amount_per_month")
    def amount_shown(self, price: Price) -> str:
        return money_format(price.amount_per_month, price.currency)


class ScheduledChangeInline(admin.TabularInline):
    model = ScheduledChange
    extra = 0
    can_delete = False
    fields = ["kind", "value", "description", "effective_date", "status", "order"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """Changes go through quotes (the Upgrades pages or the API), so that every change has an
    order confirmation and a version: here a subscription is read, not edited."""

    list_display = [
        "tenant",
        "edition",
        "seats",
        "currency",
        "seller",
        "period_start",
        "period_end",
        "status",
    ]
    list_filter = ["status", "currency", "seller", "edition", "period_months"]
    search_fields = ["tenant__name"]
    inlines = [ScheduledChangeInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = [
        "position",
        "description",
        "unit_price",
        "quantity",
        "period_start",
        "period_end",
        "net",
        "vat_rate",
        "vat",
        "total",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OrderConfirmation)
class OrderConfirmationAdmin(admin.ModelAdmin):
    """Immutable: shown, never edited."""

    list_display = ["number", "tenant", "kind", "made_on", "total_shown", "emailed_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["tenant__name"]
    inlines = [OrderLineInline]
    exclude = ["pdf"]

    @admin.display(description=_("Total"), ordering="total")
    def total_shown(self, order: OrderConfirmation) -> str:
        return money_format(order.total, order.currency)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
