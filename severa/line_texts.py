"""The texts of order, invoice and credit-note lines, scheduled changes and VAT notes.

A line keeps what it is about as a stable `kind` and its `params` (edition and add-on names
and codes, seat counts, gigabytes), and its text is rendered from them in one language:

- an issued document (an order confirmation, an invoice, a credit note) is written in its
  buyer's language when it is issued, and the rendered text is stored with it: it never
  changes after, whatever language the buyer chooses later;
- what is shown before anything is issued (the Agreement page, the upcoming period, the
  changes scheduled) is rendered in the reader's active language.

Edition, add-on and interface names are product names and are kept as the catalog has them.
A line of kind "" is free text: its stored description is all there is.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from severa.vat import (
    NOTE_OUTSIDE_EU_VAT,
    NOTE_OUTSIDE_NORWEGIAN_VAT,
    NOTE_OUTSIDE_VAT,
    NOTE_REVERSE_CHARGE,
    VAT_NOTE_KINDS,
)

# Lines charged now (a quote's increases, an order's lines).
EDITION_UPGRADE = "edition_upgrade"
SEATS_ADDITIONAL = "seats_additional"
STORAGE_CHANGE = "storage_change"
ADD_ON = "add_on"
ADD_ON_ADDITIONAL_SEATS = "add_on_additional_seats"
INTERFACE = "interface"
# Lines of a whole period (a renewal, the next period).
SEATS = "seats"
STORAGE = "storage"
# Scheduled changes.
EDITION_DOWNGRADE = "edition_downgrade"
SEATS_DECREASE = "seats_decrease"
ADD_ON_REMOVAL = "add_on_removal"
ADD_ON_REMOVAL_NOT_AVAILABLE = "add_on_removal_not_available"
INTERFACE_REMOVAL = "interface_removal"
TERMINATION = "termination"

# The text of each kind, with named placeholders for its params (translated in the
# catalogues of every language).
LINE_TEXTS: dict[str, str] = {
    EDITION_UPGRADE: gettext_noop("Upgrade %(from_edition)s to %(to_edition)s"),
    SEATS_ADDITIONAL: gettext_noop("%(edition)s, additional seats"),
    STORAGE_CHANGE: gettext_noop("File storage %(from_gb)s GB to %(to_gb)s GB"),
    ADD_ON_ADDITIONAL_SEATS: gettext_noop("%(add_on)s, additional seats"),
    SEATS: gettext_noop("%(edition)s, seats"),
    STORAGE: gettext_noop("File storage %(gb)s GB"),
    EDITION_DOWNGRADE: gettext_noop("Edition %(from_edition)s to %(to_edition)s"),
    SEATS_DECREASE: gettext_noop("Seats %(from_seats)s to %(to_seats)s"),
    ADD_ON_REMOVAL: gettext_noop("Remove %(add_on)s"),
    ADD_ON_REMOVAL_NOT_AVAILABLE: gettext_noop("Remove %(add_on)s (not available in %(edition)s)"),
    INTERFACE_REMOVAL: gettext_noop("Remove %(interface)s"),
    TERMINATION: gettext_noop("Termination of the subscription"),
}
# Kinds whose text is a product name alone (the param named here).
NAME_ONLY: dict[str, str] = {ADD_ON: "add_on", INTERFACE: "interface"}

LINE_KINDS: frozenset[str] = frozenset(LINE_TEXTS) | frozenset(NAME_ONLY)

# The VAT notes by kind (the English texts are the catalogues' message ids).
VAT_NOTES: dict[str, str] = {
    VAT_NOTE_KINDS[NOTE_REVERSE_CHARGE]: gettext_noop(NOTE_REVERSE_CHARGE),
    VAT_NOTE_KINDS[NOTE_OUTSIDE_EU_VAT]: gettext_noop(NOTE_OUTSIDE_EU_VAT),
    VAT_NOTE_KINDS[NOTE_OUTSIDE_NORWEGIAN_VAT]: gettext_noop(NOTE_OUTSIDE_NORWEGIAN_VAT),
    VAT_NOTE_KINDS[NOTE_OUTSIDE_VAT]: gettext_noop(NOTE_OUTSIDE_VAT),
}


def in_language(language: str | None) -> AbstractContextManager:
    """Render in `language` (the active one when None or already active: switching costs
    more than rendering a line, and a billing run renders thousands)."""
    if language is None or language == translation.get_language():
        return nullcontext()
    return translation.override(language)


def _render(kind: str, params: Mapping[str, Any] | None, default: str) -> str:
    values = params if isinstance(params, Mapping) else {}
    name = NAME_ONLY.get(kind)
    if name is not None:
        return str(values.get(name) or default)
    template = LINE_TEXTS.get(kind)
    if template is None:
        return default
    try:
        return gettext(template) % values
    except (KeyError, TypeError, ValueError):
        # Params that do not fit the text (a hand-edited row): the stored text stands.
        return default


def line_text(
    kind: str,
    params: Mapping[str, Any] | None,
    *,
    language: str | None = None,
    default: str = "",
) -> str:
    """The text of a line or scheduled change of `kind` with `params`, in `language` (the
    active language when None). `default` (the stored description) is the text of a free
    text line (kind "") or of params that do not fit."""
    with in_language(language):
        return _render(kind, params, default)


def line_text_of(item: Any, *, language: str | None = None) -> str:
    """The text of a stored line, scheduled change or line dict (with `text_kind`, `params`
    and `description`), in `language` (the active language when None)."""
    if isinstance(item, Mapping):
        kind, params, description = (
            item.get("text_kind", ""),
            item.get("params"),
            item.get("description", ""),
        )
    else:
        kind = getattr(item, "text_kind", "")
        params = getattr(item, "params", None)
        description = getattr(item, "description", "")
    return line_text(kind or "", params, language=language, default=str(description or ""))


def vat_note_text(kind: str, *, language: str | None = None, default: str = "") -> str:
    """The VAT note of `kind` (`severa.vat.VAT_NOTE_KINDS`) in `language` (the active
    language when None); `default` for a note without a kind."""
    template = VAT_NOTES.get(kind)
    if template is None:
        return default
    with in_language(language):
        return gettext(template)


def document_language(recipient: object) -> str:
    """The language a document to `recipient` (a tenant, or a partner organisation) is
    written in: the tenant's; a partner organisation has none of its own, the site's."""
    return getattr(recipient, "language", "") or settings.LANGUAGE_CODE


def lines_localized(items: Any, language: str | None = None) -> Any:
    """Copies of a list of line or change dicts with their `description` rendered in
    `language` (the active one when None); items without a kind keep theirs."""
    if not isinstance(items, list):
        return items
    with in_language(language):
        return [
            item | {"description": line_text_of(item)} if isinstance(item, Mapping) else item
            for item in items
        ]
