"""Serializer pieces the bodies of several domains share: amounts, sellers by their code, and
the texts of an order's or an invoice's lines."""

from collections.abc import Mapping

from rest_framework import serializers

from billing.models import SellerEntity

MONEY = {"max_digits": 14, "decimal_places": 2}


def seller_code(seller: SellerEntity) -> str:
    """A seller's stable code in the API, as in GET /sellers: its business id (SellerEntity
    has no code field)."""
    return seller.business_id


def seller_of_code(value: str) -> SellerEntity:
    """The seller a request names by its code; any other value is a 400 on that field."""
    sellers = list(SellerEntity.objects.filter(business_id=value.strip())[:2])
    if len(sellers) != 1:
        raise serializers.ValidationError(f"Unknown seller {value!r}: see GET /sellers.")
    return sellers[0]


class SellerRefSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The seller's business id.")
    name = serializers.CharField()

    def to_representation(self, seller: SellerEntity) -> dict:
        return {"code": seller_code(seller), "name": seller.name}


class LineKindField(serializers.CharField):
    """A line's `text_kind` as `kind`; reads a line already serialized too (a response that
    nests an order's data)."""

    def get_attribute(self, instance: object) -> str:
        if isinstance(instance, Mapping):
            return instance.get("kind", "")
        return instance.text_kind


class DocumentLineSerializer(serializers.ModelSerializer):
    # The texts of an order's or an invoice's line; each subclass names its model and fields.
    # No docstring: drf-spectacular would describe both lines' schema components with it.

    description = serializers.CharField(
        help_text="The line's text in the buyer's language, written when the document was "
        "issued; it never changes."
    )
    kind = LineKindField(
        help_text="What the line is about, a stable code (e.g. seats_additional, "
        "storage_change, edition_upgrade, seats, add_on); empty for a free-text line.",
    )
    params = serializers.JSONField(
        help_text="The line's parameters for its kind: edition and add-on names and codes, "
        'seat counts, gigabytes (e.g. {"from_gb": 100, "to_gb": 500}).'
    )
