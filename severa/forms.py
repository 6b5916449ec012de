"""Form helpers shared by the apps' pages."""

from functools import cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import Form
from django.utils.translation import gettext_lazy as _

DJANGO_EMPTY_LABEL = "---------"
EMPTY_CHOICE_LABEL = _("Choose…")

_COMMON = {
    "required": _("Fill in this field."),
    "max_length": _("Use at most %(limit_value)d characters (this has %(show_value)d)."),
    "min_length": _("Use at least %(limit_value)d characters (this has %(show_value)d)."),
}
_NUMBER = {
    "min_value": _("Give %(limit_value)s or more."),
    "max_value": _("Give %(limit_value)s or less."),
    "step_size": _("Give a multiple of %(limit_value)s."),
}
_CHOICE = {
    "required": _("Choose one of the options."),
    "invalid_choice": _("Choose one of the options in the list."),
    "invalid_list": _("Choose from the options in the list."),
    "invalid_pk_value": _("Choose one of the options in the list."),
}
# Most specific class first (DecimalField and FloatField are IntegerFields): the first
# match gives a field's messages.
_BY_TYPE: list[tuple[type, dict[str, Any]]] = [
    (forms.BooleanField, {"required": _("Tick this box to go on.")}),
    (forms.EmailField, {"invalid": _("Give an e-mail address such as name@example.com.")}),
    (
        forms.DecimalField,
        {
            "invalid": _("Give a number, e.g. 12.50."),
            "max_digits": _("Use at most %(max)s digits."),
            "max_decimal_places": _("Use at most %(max)s decimals."),
            "max_whole_digits": _("Use at most %(max)s digits before the decimal point."),
            **_NUMBER,
        },
    ),
    (forms.FloatField, {"invalid": _("Give a number, e.g. 12.50."), **_NUMBER}),
    (forms.IntegerField, {"invalid": _("Give a whole number, e.g. 12."), **_NUMBER}),
    (forms.DateField, {"invalid": _("Give a date, e.g. 2026-12-31.")}),
    (forms.FileField, {"required": _("Choose a file."), "empty": _("The file is empty.")}),
    (forms.ModelMultipleChoiceField, _CHOICE),
    (forms.ModelChoiceField, _CHOICE),
    (forms.MultipleChoiceField, {**_CHOICE, "required": _("Choose at least one option.")}),
    (forms.ChoiceField, _CHOICE),
]


@cache
def _messages_for(field_type: type) -> dict[str, Any]:
    messages = dict(_COMMON)
    for base, typed in _BY_TYPE:
        if issubclass(field_type, base):
            messages.update(typed)
            break
    return messages


@cache
def _django_defaults(field_type: type) -> dict[str, Any]:
    """The messages Django gives a field of this type when the form names none."""
    defaults: dict[str, Any] = {}
    for cls in reversed(field_type.__mro__):
        defaults.update(getattr(cls, "default_error_messages", {}))
    return defaults


def _humanise(field: forms.Field) -> None:
    """Replace Django's default messages and empty label on `field` by the project's."""
    if getattr(field, "_humanised", False):
        return
    defaults = _django_defaults(type(field))
    # Messages a form gives its field explicitly stay.
    explicit = {
        code: message
        for code, message in field.error_messages.items()
        if message is not defaults.get(code)
    }
    field.error_messages = {**field.error_messages, **_messages_for(type(field)), **explicit}
    if getattr(field, "empty_label", None) == DJANGO_EMPTY_LABEL:
        field.empty_label = EMPTY_CHOICE_LABEL
    if (
        isinstance(field, forms.ChoiceField)
        and not isinstance(field, forms.ModelChoiceField)
        and any(label == DJANGO_EMPTY_LABEL for _value, label in field.choices)
    ):
        field.choices = [
            (value, EMPTY_CHOICE_LABEL if label == DJANGO_EMPTY_LABEL else label)
            for value, label in field.choices
        ]
    field._humanised = True


class ClearErrorsMixin:
    """Messages a user understands on every field, translated, instead of Django's
    defaults ("Ensure this value…", "Select a valid choice…", "---------"). Pages show
    all of a form's errors at its top with ``_form_errors.html`` (one ``role="alert"``
    block whose items link to their fields); each field's own errors stand at the field,
    tied to it by ``aria-describedby``."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _humanise(field)

    def full_clean(self) -> None:
        # Fields a subclass added after __init__ get the same messages.
        for field in self.fields.values():
            _humanise(field)
        super().full_clean()


class ClearForm(ClearErrorsMixin, forms.Form):
    pass


class ClearModelForm(ClearErrorsMixin, forms.ModelForm):
    pass


def form_errors_from(form: Form, error: ValidationError) -> None:
    """Show a domain function's ValidationError on `form`: per-field messages on their
    fields (on the form as a whole when the form has no such field), others on the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
