"""Subaccount segments: the string of segment values Visma.net ERP splits accounts with,
built for each invoice line from the row's department (our business unit) and cost centre.

- On the connection the tenant picks which segment of Visma.net's ``SUBACCOUNT`` dimension
  holds departments and which cost centres, or leaves either unpicked (that segment is not
  given at all).
- Each business unit and cost centre is matched to a value of its picked segment; several
  may share one value.
- A row whose department or cost centre is unmatched (or matched to a value Visma.net no
  longer has) leaves that segment empty: the invoice still goes, and the transfer log says
  which segment stayed empty and why.

Kept in ``Connection.system_settings["segments"]``::

    {"department_segment": 1, "cost_centre_segment": 2,
     "business_units": {"<id>": "10"}, "cost_centres": {"<id>": "200"}}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import AuditAction, audit_record
from accounts.models import User
from integrations.models import Connection
from records.models import BusinessUnit, CostCentre
from severa import clock

SETTINGS_KEY = "segments"


@dataclass(frozen=True)
class SegmentValue:
    value_id: str
    description: str
    active: bool


@dataclass(frozen=True)
class Segment:
    segment_id: int
    description: str
    length: int
    values: dict[str, SegmentValue]

    @property
    def label(self) -> str:
        return f"{self.segment_id} {self.description}".strip()


def dimension_segments(*, dimension: dict) -> dict[int, Segment]:
    """The segments of a ``GET dimension/SUBACCOUNT`` answer, by id."""
    segments = {}
    for item in dimension.get("segments") or []:
        segment_id = int(item["segmentId"])
        segments[segment_id] = Segment(
            segment_id=segment_id,
            description=str(item.get("description") or ""),
            length=int(item.get("length") or 0),
            values={
                str(value["valueId"]): SegmentValue(
                    value_id=str(value["valueId"]),
                    description=str(value.get("description") or ""),
                    active=bool(value.get("active", True)),
                )
                for value in item.get("segmentValues") or []
            },
        )
    return segments


@dataclass(frozen=True)
class SegmentSettings:
    department_segment: int | None = None
    cost_centre_segment: int | None = None
    business_units: dict[int, str] = field(default_factory=dict)
    cost_centres: dict[int, str] = field(default_factory=dict)


def segment_settings(*, connection: Connection) -> SegmentSettings:
    stored = (connection.system_settings or {}).get(SETTINGS_KEY) or {}
    return SegmentSettings(
        department_segment=stored.get("department_segment"),
        cost_centre_segment=stored.get("cost_centre_segment"),
        business_units={
            int(key): value for key, value in (stored.get("business_units") or {}).items()
        },
        cost_centres={int(key): value for key, value in (stored.get("cost_centres") or {}).items()},
    )


def segment_settings_save(
    *,
    connection: Connection,
    segments: dict[int, Segment],
    department_segment: int | None,
    cost_centre_segment: int | None,
    business_units: dict[int, str],
    cost_centres: dict[int, str],
    actor: User | None,
) -> SegmentSettings:
    """Keep the picked segments and the matches (an empty value: unmatched). Each must be
    a segment, and a value of that segment, that Visma.net has now; a refusal saves
    nothing. Matches to a value that is gone can stay only as they were (shown broken)."""
    errors: dict[str, list[str]] = {}
    current = segment_settings(connection=connection)
    for name, segment_id in (
        ("department_segment", department_segment),
        ("cost_centre_segment", cost_centre_segment),
    ):
        if segment_id is not None and segment_id not in segments:
            errors.setdefault(name, []).append(
                _("Visma.net ERP has no segment %(segment)s in SUBACCOUNT.")
                % {"segment": segment_id}
            )
    if department_segment is not None and department_segment == cost_centre_segment:
        errors.setdefault("cost_centre_segment", []).append(
            _("Departments and cost centres need two different segments.")
        )
    tenant_units = set(
        BusinessUnit.objects.filter(tenant_id=connection.tenant_id).values_list("pk", flat=True)
    )
    tenant_centres = set(
        CostCentre.objects.filter(tenant_id=connection.tenant_id).values_list("pk", flat=True)
    )

    def checked(
        name: str, matches: dict[int, str], known: set[int], segment_id: int | None, old: dict
    ) -> dict[str, str]:
        kept = {}
        segment = segments.get(segment_id) if segment_id is not None else None
        for local_id, value in matches.items():
            value = (value or "").strip()
            if local_id not in known:
                errors.setdefault(name, []).append(_("Unknown record %(id)s.") % {"id": local_id})
                continue
            if not value:
                continue
            unchanged = old.get(local_id) == value
            if segment is None or (value not in segment.values and not unchanged):
                errors.setdefault(name, []).append(
                    _("%(value)s is not a value of the picked segment in Visma.net ERP.")
                    % {"value": value}
                )
                continue
            kept[str(local_id)] = value
        return kept

    stored = {
        "department_segment": department_segment,
        "cost_centre_segment": cost_centre_segment,
        "business_units": checked(
            "business_units",
            business_units,
            tenant_units,
            department_segment,
            current.business_units if department_segment == current.department_segment else {},
        ),
        "cost_centres": checked(
            "cost_centres",
            cost_centres,
            tenant_centres,
            cost_centre_segment,
            current.cost_centres if cost_centre_segment == current.cost_centre_segment else {},
        ),
    }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        locked.system_settings = {**(locked.system_settings or {}), SETTINGS_KEY: stored}
        locked.updated_at = clock.now()
        locked.save(update_fields=["system_settings", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.INTEGRATION_SEGMENTS_CHANGED,
            tenant=locked.tenant,
            details={"system": locked.system},
        )
    connection.system_settings = locked.system_settings
    return segment_settings(connection=connection)


@dataclass(frozen=True)
class RowSubaccount:
    segments: list[dict[str, Any]]  # [{"segmentId": 1, "segmentValue": "10"}]
    notes: list[str]  # why a picked segment stayed empty


def _label(record: BusinessUnit | CostCentre) -> str:
    return f"{record.code} {record.name}".strip()


def row_subaccount(
    *,
    settings: SegmentSettings,
    segments: dict[int, Segment],
    business_unit: BusinessUnit | None,
    cost_centre: CostCentre | None,
) -> RowSubaccount:
    """The subaccount segments of one invoice row: the department's value in the department
    segment, the cost centre's in the cost-centre segment; a segment that is not picked is
    left out, one whose value is unmatched or gone stays empty with a note."""
    given: list[dict[str, Any]] = []
    notes: list[str] = []
    for segment_id, record, matches, kind in (
        (settings.department_segment, business_unit, settings.business_units, _("department")),
        (settings.cost_centre_segment, cost_centre, settings.cost_centres, _("cost centre")),
    ):
        if segment_id is None:
            continue
        segment = segments.get(segment_id)
        label = segment.label if segment else str(segment_id)
        if record is None:
            notes.append(
                _("segment %(segment)s is empty: the row has no %(kind)s")
                % {"segment": label, "kind": kind}
            )
            continue
        value = matches.get(record.pk, "")
        if not value:
            notes.append(
                _("segment %(segment)s is empty: %(kind)s %(name)s is not matched to a value")
                % {"segment": label, "kind": kind, "name": _label(record)}
            )
            continue
        known = segment.values.get(value) if segment else None
        if known is None or not known.active:
            notes.append(
                _(
                    "segment %(segment)s is empty: the value %(value)s matched to %(kind)s "
                    "%(name)s is no longer in Visma.net ERP"
                )
                % {"segment": label, "value": value, "kind": kind, "name": _label(record)}
            )
            continue
        given.append({"segmentId": segment_id, "segmentValue": value})
    return RowSubaccount(segments=given, notes=notes)


@dataclass(frozen=True)
class MatchRow:
    kind: str  # "business_unit" | "cost_centre"
    local_id: int
    label: str
    value: str  # "" when unmatched
    broken: bool  # matched to a value Visma.net no longer has (or has made inactive)


def segment_overview(
    *, connection: Connection, segments: dict[int, Segment]
) -> dict[str, list[MatchRow]]:
    """Our business units and cost centres with their current matches, a match to a value
    that disappeared in Visma.net marked broken (never dropped)."""
    settings = segment_settings(connection=connection)
    overview: dict[str, list[MatchRow]] = {}
    for kind, model, matches, segment_id in (
        ("business_unit", BusinessUnit, settings.business_units, settings.department_segment),
        ("cost_centre", CostCentre, settings.cost_centres, settings.cost_centre_segment),
    ):
        segment = segments.get(segment_id) if segment_id is not None else None
        rows = []
        for record in model.objects.filter(tenant_id=connection.tenant_id).order_by("code", "pk"):
            value = matches.get(record.pk, "")
            known = segment.values.get(value) if segment and value else None
            rows.append(
                MatchRow(
                    kind=kind,
                    local_id=record.pk,
                    label=str(record)
                    if kind == "cost_centre"
                    else f"{record.code} {record.name}".strip(),
                    value=value,
                    broken=bool(value) and (known is None or not known.active),
                )
            )
        overview[kind] = rows
    return overview
