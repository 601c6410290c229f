"""What the dashboard configures about sending: sender domains (DKIM) and per-site limits."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SenderDomain(models.Model):
    """A domain we send From, with its DKIM key; every message From it is signed."""

    domain = models.CharField(max_length=253, unique=True)
    selector = models.CharField(max_length=63)
    private_key_pem = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class SiteSetting(models.Model):
    """Overrides of one site's limits and TLS policy; empty fields keep the preset/default."""

    class TlsPolicy(models.TextChoices):
        OPPORTUNISTIC = "opportunistic", "opportunistic (use when offered)"
        REQUIRED = "required", "required (verified certificate, else defer)"
        NONE = "none", "never"

    site = models.CharField(max_length=253, unique=True)
    max_connections = models.PositiveSmallIntegerField(null=True, blank=True)
    messages_per_connection = models.PositiveSmallIntegerField(null=True, blank=True)
    rate = models.CharField(max_length=32, blank=True, help_text='e.g. "100/min"; empty: preset')
    tls_policy = models.CharField(max_length=16, choices=TlsPolicy.choices, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["site"]

    def __str__(self) -> str:
        return self.site
