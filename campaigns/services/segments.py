"""Saving and deleting segments: only valid definitions naming existing lists and campaigns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from campaigns.models import Campaign, ContactList, Segment
from campaigns.segments.definition import (
    OPERATORS,
    Group,
    SegmentInvalidError,
    Value,
    parse,
    to_json,
)


class SegmentInUseError(Exception):
    """Campaigns use this segment as their audience."""


def segment_create(*, name: str, definition: Any) -> Segment:
    """A new segment; SegmentInvalidError (nothing saved) names each bad condition by path."""
    group = _checked(name, definition)
    return Segment.objects.create(name=name.strip(), definition=to_json(group))


def segment_update(segment: Segment, *, name: str, definition: Any) -> Segment:
    """Change the name or conditions; drafts using the segment get the new audience."""
    group = _checked(name, definition)
    segment.name, segment.definition = name.strip(), to_json(group)
    segment.updated_at = timezone.now()
    segment.save(update_fields=["name", "definition", "updated_at"])
    return segment


def segment_delete(segment: Segment) -> None:
    """Delete a segment no campaign uses; SegmentInUseError names those that do."""
    try:
        with transaction.atomic():
            segment.delete()
    except ProtectedError:
        names = sorted(segment.campaigns.values_list("name", flat=True))
        raise SegmentInUseError(
            f"“{segment.name}” is the audience of {', '.join(f'“{n}”' for n in names)}."
        ) from None


def definition_check(definition: Any) -> Group:
    """The typed definition, if valid and naming only lists and campaigns that exist;
    SegmentInvalidError lists the problems under `definition.…` paths otherwise."""
    return _checked(None, definition)


def segment_for_audience(
    chosen: Segment | None, group: Group, *, campaign: Campaign, name: str
) -> Segment | None:
    """The segment a campaign editor's conditions stand for: the chosen one if they are its
    conditions, none if there are none, else the campaign's own "<name>: audience" segment
    (updated if only this campaign uses it, new otherwise: a shared one is never changed)."""
    stored = to_json(group)
    if chosen is not None and chosen.definition == stored:
        return chosen
    if not group.conditions:
        return None
    own = f"{name}: audience"
    if (
        chosen is not None
        and chosen.name == own
        and not chosen.campaigns.exclude(pk=campaign.pk).exists()
    ):
        chosen.definition, chosen.updated_at = stored, timezone.now()
        chosen.save(update_fields=["definition", "updated_at"])
        return chosen
    return Segment.objects.create(name=own, definition=stored)


def _checked(name: str | None, definition: Any) -> Group:
    problems: dict[str, list[str]] = {}
    if name is not None and not name.strip():
        problems["name"] = ["a segment needs a name"]
    try:
        group = parse(definition, within="definition")
    except SegmentInvalidError as exc:
        raise SegmentInvalidError(problems | exc.problems) from None
    references = list(_references(group, "definition."))
    found = {
        Value.LIST: set(
            ContactList.objects.filter(
                pk__in=[i for _, kind, i in references if kind is Value.LIST]
            ).values_list("pk", flat=True)
        ),
        Value.CAMPAIGN: set(
            Campaign.objects.filter(
                pk__in=[i for _, kind, i in references if kind is Value.CAMPAIGN]
            ).values_list("pk", flat=True)
        ),
    }
    for path, kind, pk in references:
        if pk not in found[kind]:
            problems.setdefault(path, []).append(f"no {kind} with id {pk}")
    if problems:
        raise SegmentInvalidError(problems)
    return group


def _references(group: Group, path: str) -> Iterator[tuple[str, Value, int]]:
    """(path of the value, LIST or CAMPAIGN, id) of every condition naming a list or campaign."""
    for index, node in enumerate(group.conditions):
        node_path = f"{path}conditions[{index}]"
        if isinstance(node, Group):
            yield from _references(node, f"{node_path}.")
            continue
        kind = OPERATORS[node.field][node.op]
        if kind in (Value.LIST, Value.CAMPAIGN):
            yield f"{node_path}.value", kind, node.value
