"""Reading segments: the contacts a definition selects, and how many, in one query each."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from campaigns.models import Campaign, Contact, ContactList, Segment
from campaigns.segments.compiler import segment_q
from campaigns.segments.definition import MAX_DEPTH, OPERATORS, Group, parse
from campaigns.segments.labels import FIELD_LABELS, OP_LABELS

CATALOG_CAMPAIGNS = 200  # the latest ones; older campaigns are rarely what a segment names


def segment_group(segment: Segment) -> Group:
    """The saved definition, typed (it was validated when saved)."""
    return parse(segment.definition)


def segment_contacts(group: Group, *, now: dt.datetime | None = None) -> QuerySet[Contact]:
    """Every contact the definition selects, whatever its status or lists."""
    return Contact.objects.filter(segment_q(group, now=now))


def segment_count(group: Group, *, now: dt.datetime | None = None) -> int:
    return segment_contacts(group, now=now).count()


def segment_catalog() -> dict:
    """What the audience builder offers: fields, their operators and the kind of value each
    takes, and the statuses, lists and campaigns a value may name."""
    sent = Campaign.objects.exclude(status__in=[Campaign.Status.DRAFT, Campaign.Status.SCHEDULED])
    return {
        "fields": [
            {
                "value": field,
                "label": FIELD_LABELS[field],
                "ops": [
                    {"value": op, "label": OP_LABELS[field, op], "kind": kind}
                    for op, kind in operators.items()
                ],
            }
            for field, operators in OPERATORS.items()
        ],
        "choices": {
            "status": [[value, label] for value, label in Contact.Status.choices],
            "list": list(ContactList.objects.order_by("name").values_list("pk", "name")),
            "campaign": list(sent.order_by("-pk").values_list("pk", "name")[:CATALOG_CAMPAIGNS]),
        },
        "max_depth": MAX_DEPTH,
    }
