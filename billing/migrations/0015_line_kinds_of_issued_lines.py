"""The kind and params of the lines and scheduled changes issued before lines kept them, read
from their English texts (the only language they were written in). A text that is not one of
the product's own stays free text (kind ""); no description changes."""

import re

from django.db import migrations

BATCH = 2000


def line_kind(
    description: str,
    *,
    editions: dict[str, str],
    add_ons: dict[str, str],
    interfaces: dict[str, str],
) -> tuple[str, dict] | None:
    """(kind, params) of an English line or change text, or None for free text. The names
    are the catalog's (name -> code)."""

    def edition(name: str) -> dict | None:
        return {"edition": name, "edition_code": editions[name]} if name in editions else None

    def pair(first: str, second: str) -> dict | None:
        if first not in editions or second not in editions:
            return None
        return {
            "from_edition": first,
            "from_edition_code": editions[first],
            "to_edition": second,
            "to_edition_code": editions[second],
        }

    def add_on(name: str) -> dict | None:
        return {"add_on": name, "add_on_code": add_ons[name]} if name in add_ons else None

    def interface(name: str) -> dict | None:
        if name not in interfaces:
            return None
        return {"interface": name, "interface_code": interfaces[name]}

    text = description.strip()
    if text == "Termination of the subscription":
        return "termination", {}
    if match := re.fullmatch(r"File storage (\d+) GB to (\d+) GB", text):
        return "storage_change", {"from_gb": int(match[1]), "to_gb": int(match[2])}
    if match := re.fullmatch(r"File storage (\d+) GB", text):
        return "storage", {"gb": int(match[1])}
    if match := re.fullmatch(r"Seats (\d+) to (\d+)", text):
        return "seats_decrease", {"from_seats": int(match[1]), "to_seats": int(match[2])}
    candidates = []
    if match := re.fullmatch(r"Upgrade (.+) to (.+)", text):
        candidates.append(("edition_upgrade", pair(match[1], match[2])))
    if match := re.fullmatch(r"Edition (.+) to (.+)", text):
        candidates.append(("edition_downgrade", pair(match[1], match[2])))
    if match := re.fullmatch(r"(.+), additional seats", text):
        candidates.append(("seats_additional", edition(match[1])))
        candidates.append(("add_on_additional_seats", add_on(match[1])))
    if match := re.fullmatch(r"(.+), seats", text):
        candidates.append(("seats", edition(match[1])))
    if match := re.fullmatch(r"Remove (.+) \(not available in (.+)\)", text):
        found, where = add_on(match[1]), edition(match[2])
        candidates.append(("add_on_removal_not_available", found and where and found | where))
    if match := re.fullmatch(r"Remove (.+)", text):
        candidates.append(("add_on_removal", add_on(match[1])))
        candidates.append(("interface_removal", interface(match[1])))
    candidates.append(("add_on", add_on(text)))
    candidates.append(("interface", interface(text)))
    for kind, params in candidates:
        if params:
            return kind, params
    return None


def fill(apps, schema_editor):
    names = {
        model: dict(apps.get_model("subscriptions", model).objects.values_list("name", "code"))
        for model in ("Edition", "AddOn", "Interface")
    }
    catalog = {
        "editions": names["Edition"],
        "add_ons": names["AddOn"],
        "interfaces": names["Interface"],
    }
    for app, name in (
        ("subscriptions", "OrderLine"),
        ("subscriptions", "ScheduledChange"),
        ("billing", "InvoiceLine"),
    ):
        model = apps.get_model(app, name)
        batch = []
        for row in model.objects.filter(text_kind="").only("pk", "description").iterator(BATCH):
            parsed = line_kind(row.description, **catalog)
            if parsed is None:
                continue
            row.text_kind, row.params = parsed
            batch.append(row)
            if len(batch) == BATCH:
                model.objects.bulk_update(batch, ["text_kind", "params"])
                batch = []
        if batch:
            model.objects.bulk_update(batch, ["text_kind", "params"])


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0014_line_texts"),
        ("subscriptions", "0010_line_texts"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
