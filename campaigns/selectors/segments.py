"""Reading segments: the contacts a definition selects, and how many, in one query each."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from campaigns.models import Contact, Segment
from campaigns.segments.compiler import segment_q
from campaigns.segments.definition import Group, parse


def segment_group(segment: Segment) -> Group:
    """The saved definition, typed (it was validated when saved)."""
    return parse(segment.definition)


def segment_contacts(group: Group, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """Every contact the definition selects, whatever its status or lists."""
    return Contact.objects.filter(segment_q(group, now=now))


def segment_count(group: Group, *, now: dt.datetime | None = None) -> int:
    return segment_contacts(group, now=now).count()
