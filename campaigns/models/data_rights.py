"""Data-rights actions: every export and erasure of a contact's data, and who asked for it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class DataRightsAction(models.Model):
    """One export or erasure of one contact's data (GDPR articles 15 and 17).

    `contact_id` is a plain number, not a foreign key: the row must outlive the contact it
    erased, and it never holds the address (the audit log would otherwise keep what the
    erasure removed).
    """

    class Kind(models.TextChoices):
        EXPORT = "export", "data exported"
        ERASE = "erase", "data erased"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    contact_id = models.BigIntegerField(db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token = models.ForeignKey(
        "edm.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who, as it read when it happened: users and tokens can be deleted later.
    actor = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} of contact {self.contact_id} by {self.actor or 'nobody'}"
