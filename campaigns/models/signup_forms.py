"""Sign-up forms: a hosted page (and a snippet for other sites) that puts visitors on lists."""

from __future__ import annotations

import secrets

from django.db import models
from django.urls import reverse
from django.utils import timezone

from campaigns.models.contacts import ContactList
from campaigns.models.templates import Template


def new_public_id() -> str:
    """The form's id in public URLs: random, so forms cannot be enumerated by counting."""
    return secrets.token_urlsafe(9)


def _no_fields() -> list:
    return []


class SignupForm(models.Model):
    """What a sign-up form asks, which lists it adds to, and whether the address must confirm."""

    class OptIn(models.TextChoices):
        SINGLE = "single", "single opt-in (subscribed at once)"
        DOUBLE = "double", "double opt-in (subscribed once the address confirms)"

    name = models.CharField(max_length=200, unique=True)
    public_id = models.CharField(max_length=16, unique=True, default=new_public_id)
    lists = models.ManyToManyField(ContactList, related_name="signup_forms")
    # True: the visitor ticks the lists they want (at least one); False: every list of the form.
    visitor_chooses_lists = models.BooleanField(default=False)
    asks_name = models.BooleanField(default=True)
    # [{"key": "city", "label": "Your city"}, …]: contact attributes the form asks for.
    attribute_fields = models.JSONField(default=_no_fields, blank=True)
    opt_in = models.CharField(max_length=8, choices=OptIn.choices, default=OptIn.DOUBLE)
    consent_text = models.TextField(
        default="Yes, send me emails. I can unsubscribe at any time with the link in each email."
    )
    from_name = models.CharField(max_length=200, blank=True)
    from_email = models.CharField(max_length=254)
    # None: the built-in confirmation message (campaigns/services/signup_mail.py).
    confirmation_template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    welcome_template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:signup_form_edit", args=[self.pk])

    @property
    def double_opt_in(self) -> bool:
        return self.opt_in == self.OptIn.DOUBLE
