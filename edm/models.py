"""API tokens: how programs authenticate to the REST API, one user's credential each."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A bearer token for the API, acting as its user.

    Only a SHA-256 of the secret is stored: the secret is shown once, when created. The
    secret is 240 random bits, so an unsalted hash is as good as a password hash here (no
    dictionary to try) and lets a request find its token with one indexed lookup.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)  # the secret's first characters, to recognise it
    secret_hash = models.CharField(max_length=64, unique=True)
    can_write = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
