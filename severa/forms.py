"""Form helpers shared by the apps' pages."""

from django.core.exceptions import ValidationError
from django.forms import Form


def form_errors_from(form: Form, error: ValidationError) -> None:
    """Show a domain function's ValidationError on `form`: per-field messages on their
    fields (on the form as a whole when the form has no such field), others on the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
