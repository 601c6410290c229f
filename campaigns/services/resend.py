"""Resending a finished campaign to those it did not reach: a new draft with that audience.

The audience is a saved segment on the original campaign ("received it and did not open
it"), so it is visible and editable in the editor like any other, and stays one query. The
draft keeps the original's lists: the segment narrows them, so whoever has unsubscribed,
bounced, complained or been suppressed since is left out as in every campaign.
"""

from __future__ import annotations

from django.db import models, transaction

from campaigns.models import Campaign, Segment
from campaigns.segments.definition import Field, Op
from campaigns.services.campaigns import CampaignStateError, campaign_copy
from campaigns.services.segments import segment_create


class ResendKind(models.TextChoices):
    NOT_OPENED = "not_opened", "did not open"
    NOT_CLICKED = "not_clicked", "did not click"
    NOT_RECEIVED = "not_received", "did not receive"


_OPERATORS = {
    ResendKind.NOT_OPENED: Op.NOT_OPENED,
    ResendKind.NOT_CLICKED: Op.NOT_CLICKED,
    ResendKind.NOT_RECEIVED: Op.FAILED,  # failed: no route, or the retry window ended
}


def campaign_resend_draft(campaign: Campaign, kind: ResendKind, *, by=None) -> Campaign:
    """A draft of the same content to the original's recipients of this kind, as they are now.

    Raises CampaignStateError unless the campaign is finished (before that, who did not
    open or receive it is not settled).
    """
    if campaign.status != Campaign.Status.FINISHED:
        raise CampaignStateError(
            f"Only finished campaigns can be resent; this campaign is {campaign.status}."
        )
    kind = ResendKind(kind)
    definition = {
        "match": "all",
        "conditions": [{"field": Field.RECEIVED, "op": _OPERATORS[kind], "value": campaign.pk}],
    }
    with transaction.atomic():
        segment = _segment(f"{campaign.name}: {kind.label}", definition)
        return campaign_copy(
            campaign, name=f"{campaign.name} (resend: {kind.label})", segment=segment, by=by
        )


def _segment(name: str, definition: dict) -> Segment:
    """The segment of this name and definition, made once: resending twice reuses it."""
    for segment in Segment.objects.filter(name=name):
        if segment.definition == definition:
            return segment
    return segment_create(name=name, definition=definition)
