from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.template import loader
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.outbox import outbox_message_add, outbox_relay_soon
from severa.forms import ClearForm


class LoginForm(ClearForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class OtpForm(ClearForm):
    code = forms.CharField(
        label=_("Six-digit code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class InvitationForm(ClearForm):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class RoleForm(ClearForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class InvitationAcceptForm(ClearForm):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's password reset, its e-mail written to the outbox like every other (rendered
    as Django renders it, in the requester's language) and relayed at once."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        message = outbox_message_add(
            kind="password_reset",
            to=to_email,
            subject=subject,
            body=loader.render_to_string(email_template_name, context),
            # Every request is its own mail: the token in it is new.
            dedupe_key=f"password_reset:{context['uid']}:{context['token']}",
        )
        outbox_relay_soon(messages=[message] if message is not None else [])
