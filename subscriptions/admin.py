from django.contrib import admin

from subscriptions.models import AddOn, Edition, Interface, Price, StorageTier


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
    list_display = ["__str__", "currency", "amount_per_month", "valid_from", "valid_until"]
    list_filter = ["currency"]
