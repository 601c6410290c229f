"""The two emails of a sign-up, sent through the transactional lane (delivery/tx/accept.py).

Their templates see the form's values as `contact.attributes.*`, on top of the contact's own:
`confirm_url` (the confirmation email only), `form_name` and `lists` (the list names, joined).
A form without a confirmation template uses the built-in one, stored as an ordinary template
the first time it is needed so it can be read and edited like any other.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from campaigns.models import Contact, ContactList, SignupForm, Template
from campaigns.signup_tokens import Confirmation, confirm_url
from delivery.message import Sender
from delivery.tx.accept import TxRecipientIn, tx_request_accept

DEFAULT_CONFIRMATION_NAME = "Sign-up confirmation (built-in)"
DEFAULT_CONFIRMATION = {
    "subject": "Please confirm your subscription",
    "html": (
        "<p>Hello{% if contact.name %} {{ contact.name }}{% endif %},</p>\n"
        "<p>Someone, probably you, asked to receive emails from us ({{ contact.attributes.lists }})"
        " at this address. To confirm, open this link and press the button:</p>\n"
        '<p><a href="{{ contact.attributes.confirm_url }}">Confirm my subscription</a></p>\n'
        "<p>If it was not you, ignore this email: nothing will be sent to you.</p>\n"
    ),
    "text": (
        "Hello{% if contact.name %} {{ contact.name }}{% endif %},\n\n"
        "Someone, probably you, asked to receive emails from us ({{ contact.attributes.lists }})"
        " at this address. To confirm, open this link and press the button:\n\n"
        "{{ contact.attributes.confirm_url }}\n\n"
        "If it was not you, ignore this email: nothing will be sent to you.\n"
    ),
}


def confirmation_send(
    form: SignupForm, contact: Contact, lists: list[ContactList], confirmation: Confirmation
) -> None:
    """Queue the confirmation email with its signed, expiring link."""
    url = confirm_url(settings.EDM_PUBLIC_URL, confirmation)
    template = form.confirmation_template or default_confirmation_template()
    _send(form, contact, lists, template, {"confirm_url": url})


def welcome_send(form: SignupForm, contact: Contact, lists: list[ContactList]) -> None:
    """Queue the form's welcome email, if it has one."""
    if form.welcome_template is not None:
        _send(form, contact, lists, form.welcome_template, {})


def default_confirmation_template() -> Template:
    """The built-in confirmation template, created on first use."""
    found = Template.objects.filter(name=DEFAULT_CONFIRMATION_NAME).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Template.objects.create(name=DEFAULT_CONFIRMATION_NAME, **DEFAULT_CONFIRMATION)
    except IntegrityError:  # created by another job at the same moment
        return Template.objects.get(name=DEFAULT_CONFIRMATION_NAME)


def _send(
    form: SignupForm, contact: Contact, lists: list[ContactList], template: Template, data: dict
) -> None:
    tx_request_accept(
        template=template,
        sender=Sender(form.from_name, form.from_email),
        recipients=[TxRecipientIn(contact.email, contact.name)],
        data={"form_name": form.name, "lists": ", ".join(item.name for item in lists), **data},
    )
