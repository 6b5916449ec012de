from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.locale_format import money_format
from severa.forms import ClearForm
from subscriptions.pricebook import MAX_SEATS, PriceBook


class AdjustForm(ClearForm):
    """Seats, storage and the selected add-ons and interfaces (as codes)."""

    seats = forms.IntegerField(label=_("User seats"), min_value=1, max_value=MAX_SEATS)
    storage_gb = forms.TypedChoiceField(label=_("File storage"), coerce=int)
    add_ons = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)
    interfaces = forms.MultipleChoiceField(required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, prices: PriceBook, edition: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The edition's included base, then every tier above it.
        included_gb, *sizes = prices.storage_sizes(edition=edition)
        tiers = [prices.storage_tier(size) for size in sizes]
        self.fields["storage_gb"].choices = [
            (included_gb, _("%(gb)s GB (included)") % {"gb": included_gb}),
            *(
                (
                    tier.gigabytes,
                    _("%(gb)s GB, %(price)s per month")
                    % {
                        "gb": tier.gigabytes,
                        "price": money_format(tier.price_per_month, prices.currency),
                    },
                )
                for tier in tiers
            ),
        ]
        self.fields["add_ons"].choices = [(a.code, a.name) for a in prices.add_ons]
        self.fields["interfaces"].choices = [(i.code, i.name) for i in prices.interfaces]


class EditionForm(ClearForm):
    edition = forms.ChoiceField(label=_("Edition"), widget=forms.RadioSelect)

    def __init__(self, *args, prices: PriceBook, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["edition"].choices = [(e.code, e.name) for e in prices.editions]
