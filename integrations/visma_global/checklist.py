"""The go-live checklist of Visma Global (the guide's checklist), checked through the agent
before the first sync and shown on the connection page:

- the customer and invoice number series must not overlap between the two systems (a
  Severa number inside Visma Global's series, not held there by the same record, would one
  day be given to another record): the first sync is refused until they do not;
- codes pre-set so that existing records match (products, business units and customers
  without a number/code are listed: they are not matched);
- the default article for fees exists in Visma Global (when one is chosen): refused until
  it does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

from integrations.agents import AgentChannel
from records.models import BusinessUnit, Customer, CustomerInvoice, Product
from severa import clock


@dataclass
class CheckItem:
    code: str
    ok: bool
    # A failing blocking item refuses the first sync.
    blocking: bool
    message: str


def _numeric(values: list[str]) -> list[int]:
    return [int(value) for value in values if value and value.isdigit()]


def _series_overlap(
    channel: AgentChannel,
    series: dict[str, Any],
    register: str,
    numbers: list[int],
    names: dict[int, str],
) -> list[int]:
    low, high = int(series["From"]), int(series["To"])
    clashing = []
    for number in sorted(n for n in numbers if low <= n <= high):
        if register == "customer":
            # The same customer under the same number in Visma Global is a match, not a clash.
            item = channel.call("get", {"register": "customer", "key": str(number)})
            if (
                item
                and " ".join(str(item.get("Name", "")).split()).casefold()
                == " ".join(names.get(number, "").split()).casefold()
            ):
                continue
        clashing.append(number)
    return clashing


def go_live_checklist(*, channel: AgentChannel) -> list[CheckItem]:
    """What to check before going live: number series that do not overlap, records with
    numbers/codes, and the default article for fees."""
    connection = channel.connection
    return [
        *_series_checks(channel),
        _codes_check(connection.tenant_id),
        _default_article_check(channel),
    ]


def _series_checks(channel: AgentChannel) -> list[CheckItem]:
    tenant_id = channel.connection.tenant_id
    items: list[CheckItem] = []
    series = {row["Register"]: row for row in channel.call("number_series") or []}
    customers = dict(Customer.objects.filter(tenant_id=tenant_id).values_list("number", "name"))
    customer_names = {
        int(number): name for number, name in customers.items() if number and number.isdigit()
    }
    for register, numbers, names, label in (
        ("customer", _numeric(list(customers)), customer_names, _("customer")),
        (
            "invoice",
            _numeric(
                list(
                    CustomerInvoice.objects.filter(tenant_id=tenant_id).values_list(
                        "number", flat=True
                    )
                )
            ),
            {},
            _("invoice"),
        ),
    ):
        row = series.get(register)
        if row is None:
            items.append(
                CheckItem(
                    f"{register}_series",
                    False,
                    True,
                    _("Visma Global does not tell its %(what)s number series.") % {"what": label},
                )
            )
            continue
        clashing = _series_overlap(channel, row, register, numbers, names)
        if clashing:
            message = _(
                "Severa's %(what)s numbers %(numbers)s lie inside Visma Global's %(what)s number "
                "series %(low)s–%(high)s: move the series in Visma Global or renumber them."
            ) % {
                "what": label,
                "numbers": ", ".join(str(n) for n in clashing[:5])
                + (" …" if len(clashing) > 5 else ""),
                "low": row["From"],
                "high": row["To"],
            }
        else:
            message = _("The %(what)s number series do not overlap.") % {"what": label}
        items.append(CheckItem(f"{register}_series", not clashing, True, message))
    return items


def _codes_check(tenant_id: int) -> CheckItem:
    without = (
        Product.objects.filter(tenant_id=tenant_id, code="").count()
        + BusinessUnit.objects.filter(tenant_id=tenant_id, code="").count()
        + Customer.objects.filter(tenant_id=tenant_id, number="").count()
    )
    return CheckItem(
        "codes",
        without == 0,
        False,
        _("Every product, business unit and customer has a number/code, so existing records match.")
        if without == 0
        else _(
            "%(count)d products, business units or customers have no number/code: "
            "they are not matched or sent."
        )
        % {"count": without},
    )


def _default_article_check(channel: AgentChannel) -> CheckItem:
    connection = channel.connection
    product = (
        Product.objects.filter(
            tenant_id=connection.tenant_id, pk=connection.default_product_id
        ).first()
        if connection.default_product_id
        else None
    )
    if product is None:
        return CheckItem(
            "default_article", True, False, _("No default product for fees is chosen.")
        )
    found = bool(product.code) and channel.call("get", {"register": "article", "key": product.code})
    return CheckItem(
        "default_article",
        bool(found),
        True,
        _("The default article %(code)s for fees exists in Visma Global.") % {"code": product.code}
        if found
        else _(
            "The default article %(code)s for fees does not exist in Visma Global: create it there."
        )
        % {"code": product.code or "–"},
    )


def checklist_as_dict(items: list[CheckItem]) -> dict[str, Any]:
    return {"checked_at": clock.now().isoformat(), "items": [asdict(item) for item in items]}
