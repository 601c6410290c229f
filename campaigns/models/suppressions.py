"""Suppressions: global do-not-send entries for one address or a whole domain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Suppression(models.Model):
    """Nothing is ever sent to `value`: an email address, or every address at a domain."""

    class Scope(models.TextChoices):
        EMAIL = "email", "address"
        DOMAIN = "domain", "domain"
        # `value` is campaigns.address_hash.address_hash() of an erased contact's address:
        # the address itself is gone, and this still refuses it (any case) everywhere.
        HASH = "hash", "erased address (hashed)"

    class Reason(models.TextChoices):
        MANUAL = "manual", "added by hand"
        BLOCKLISTED = "blocklisted", "blocklisted"
        BOUNCED = "bounced", "hard bounce"
        COMPLAINED = "complained", "complaint"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"
        ERASED = "erased", "erased on request"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    # An address's comparison key (like Contact.email_key: the local part lower-cased, so a
    # suppression of User@x.com holds for user@x.com) or a lower-cased Unicode domain.
    value = models.CharField(max_length=254, unique=True)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.MANUAL)
    source = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # Partial: only hashed entries, so an import can ask "any erasures at all?" per batch
        # with one index probe, and other suppressions never write it.
        indexes = [
            models.Index(
                fields=["scope"], condition=models.Q(scope="hash"), name="suppression_hash"
            )
        ]

    def __str__(self) -> str:
        return self.value
