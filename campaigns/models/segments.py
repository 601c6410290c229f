"""Segments: saved audience definitions, reusable as a campaign's audience."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


def _everyone() -> dict:
    return {"match": "all", "conditions": []}


class Segment(models.Model):
    """Conditions on contacts (campaigns/segments/definition.py), stored as validated JSON.

    A campaign sends to its lists' subscribed members narrowed by its segment; the segment
    is read when the campaign starts, so editing it later changes drafts, not what was sent.
    """

    name = models.CharField(max_length=200)
    definition = models.JSONField(default=_everyone)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name
