"""Reusable templates: message templates and the layouts message bodies are placed into."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone


class Template(models.Model):
    """Subject, HTML and text of a message, in Jinja2, reused by campaigns.

    A layout is HTML with exactly one `{{ content }}` where a message body goes; a message
    template may name a layout.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", "message"
        LAYOUT = "layout", "layout"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.MESSAGE)
    subject = models.CharField(max_length=998, blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    layout = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="used_by",
        limit_choices_to={"kind": Kind.LAYOUT},
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:template_edit", args=[self.pk])
