"""Consent: the evidence that a person asked to be on a list (GDPR Art. 7(1))."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from campaigns.models.contacts import Contact, ContactList
from campaigns.models.signup_forms import SignupForm

USER_AGENT_MAX_LENGTH = 255


class Consent(models.Model):
    """One request to join one list: when, where from, what the person was shown, and when
    the address confirmed it (None: not yet, for double opt-in). Kept when the person leaves:
    it is the record of what they agreed to at the time."""

    class Method(models.TextChoices):
        FORM = "form", "sign-up form"
        PREFERENCES = "preferences", "preference centre"
        IMPORT = "import", "import"
        API = "api", "API"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="consents")
    form = models.ForeignKey(
        SignupForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="consents"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    text = models.TextField(blank=True)  # the consent text as shown, not as the form says now
    client_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_MAX_LENGTH, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["contact", "requested_at"], name="consent_by_contact")]

    def __str__(self) -> str:
        return (
            f"{self.contact_id} on {self.list_id} by {self.method} ({self.requested_at:%Y-%m-%d})"
        )
