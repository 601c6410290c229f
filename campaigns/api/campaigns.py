"""Campaigns: drafts (create, read, change, delete, duplicate, resend), audience size, test
sends, and the lifecycle (schedule, unschedule, start, pause, resume, cancel).

Stats, per-site stats and deliveries are the delivery app's (delivery/api/reports.py).
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from campaigns.emails import InvalidEmailError
from campaigns.models import Campaign, ContactList, Segment, Template
from campaigns.selectors.campaigns import campaign_audience_size
from campaigns.services import campaigns as campaign_services
from campaigns.services.resend import ResendKind, campaign_resend_draft
from delivery.test_send import MAX_ADDRESSES, test_send_enqueue, test_send_results
from edm.rest.errors import Invalid
from edm.rest.pagination import PageParams, keyset_page, page_schema
from edm.rest.types import Id, Input, PathId, choice

router = Router(tags=["campaigns"])
CampaignStatus = choice(Campaign.Status)
ResendChoice = choice(ResendKind)

Warnings = dict[str, list[str]]


class CampaignOut(Schema):
    id: int
    name: str
    status: CampaignStatus
    from_name: str
    from_email: str
    reply_to: str
    lists: list[int]
    exclusion_lists: list[int]
    segment: int | None = Field(..., validation_alias="segment_id")
    template: int | None = Field(..., validation_alias="template_id")
    layout: int | None = Field(..., validation_alias="layout_id")
    subject: str
    html: str
    text: str
    time_zone: str
    retry_window_hours: float
    track_opens: bool
    track_clicks: bool
    scheduled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_lists(campaign: Campaign) -> list[int]:
        return [item.pk for item in campaign.lists.all()]

    @staticmethod
    def resolve_exclusion_lists(campaign: Campaign) -> list[int]:
        return [item.pk for item in campaign.exclusion_lists.all()]

    @staticmethod
    def resolve_retry_window_hours(campaign: Campaign) -> float:
        return campaign.retry_window.total_seconds() / 3600


class CampaignSavedOut(CampaignOut):
    warnings: Warnings = Field({}, description="Template warnings (unknown variables…), by part.")


class CampaignIn(Input):
    name: str = Field(..., min_length=1, max_length=200)
    from_name: str = Field("", max_length=200)
    from_email: str = Field(..., max_length=254)
    reply_to: str = Field("", max_length=254)
    lists: list[Id] = []
    exclusion_lists: list[Id] = []
    segment: Id | None = Field(None, description="A segment narrowing the lists' members.")
    template: Id | None = Field(
        None, description="A message template; its content is copied unless given here."
    )
    subject: str | None = Field(None, max_length=998)
    html: str | None = None
    text: str | None = None
    layout: Id | None = None
    time_zone: str = Field("UTC", max_length=64)
    retry_window_hours: float | None = Field(
        None, ge=1, le=720, description="How long deferred mail is retried (default 72)."
    )
    track_opens: bool = Field(True, description="A tracking pixel (unless EDM_TRACKING=false).")
    track_clicks: bool = Field(True, description="Links through tracked redirects.")


class CampaignPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    from_name: str | None = Field(None, max_length=200)
    from_email: str | None = Field(None, max_length=254)
    reply_to: str | None = Field(None, max_length=254)
    lists: list[Id] | None = None
    exclusion_lists: list[Id] | None = None
    segment: Id | None = None
    template: Id | None = None
    subject: str | None = Field(None, max_length=998)
    html: str | None = None
    text: str | None = None
    layout: Id | None = None
    time_zone: str | None = Field(None, max_length=64)
    retry_window_hours: float | None = Field(None, ge=1, le=720)
    track_opens: bool | None = None
    track_clicks: bool | None = None


class ScheduleIn(Input):
    scheduled_at: dt.datetime = Field(..., description="When to start, with a time zone.")


class ResendIn(Input):
    kind: ResendChoice = Field(
        ..., description="not_opened, not_clicked or not_received (failed or expired)."
    )


class AudienceOut(Schema):
    size: int = Field(..., description="Contacts the campaign would reach if it started now.")


class TestSendIn(Input):
    addresses: list[str] = Field(..., min_length=1, max_length=MAX_ADDRESSES)


class TestSendOut(Schema):
    addresses: list[str] = Field(..., description="Queued, normalized.")


class TestResultOut(Schema):
    address: str
    outcome: str
    detail: str


class CampaignFilter(PageParams):
    status: CampaignStatus | None = None


CampaignPage = page_schema(CampaignOut)

_PREFETCH = ("lists", "exclusion_lists")


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign.objects.prefetch_related(*_PREFETCH), pk=campaign_id)


def _lists(ids: list[int], field: str) -> list[ContactList]:
    found = list(ContactList.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {item.pk for item in found})
    if missing:
        raise Invalid(
            "Some lists do not exist.", {field: [f"no list with id {i}" for i in missing]}
        )
    return found


def _segment(segment_id: int | None) -> Segment | None:
    if segment_id is None:
        return None
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise Invalid(f"No segment {segment_id}.", {"segment": ["no segment with that id"]})
    return segment


def _template(template_id: int | None, field: str, kind: str) -> Template | None:
    if template_id is None:
        return None
    template = Template.objects.select_related("layout").filter(pk=template_id, kind=kind).first()
    if template is None:
        raise Invalid(f"No {kind} template {template_id}.", {field: [f"no {kind} with that id"]})
    return template


def _save(campaign: Campaign | None, values: dict, user) -> Campaign:
    """Save with the service; `values` holds every field of CampaignIn, resolved."""
    template = _template(values["template"], "template", Template.Kind.MESSAGE)
    if template is not None and campaign is None:
        # A new campaign made from a template copies its content, as the editor does.
        for name in ("subject", "html", "text"):
            if values[name] is None:
                values[name] = getattr(template, name)
        if values["layout"] is None:
            values["layout"] = template.layout_id
    hours = values["retry_window_hours"]
    saved, warnings = campaign_services.campaign_save(
        campaign,
        name=values["name"],
        from_name=values["from_name"],
        from_email=values["from_email"],
        reply_to=values["reply_to"],
        lists=_lists(values["lists"], "lists"),
        exclusion_lists=_lists(values["exclusion_lists"], "exclusion_lists"),
        segment=_segment(values["segment"]),
        subject=values["subject"] or "",
        html=values["html"] or "",
        text=values["text"] or "",
        layout=_template(values["layout"], "layout", Template.Kind.LAYOUT),
        template=template,
        time_zone=values["time_zone"],
        retry_window=dt.timedelta(hours=hours) if hours is not None else None,
        track_opens=values["track_opens"],
        track_clicks=values["track_clicks"],
        by=user,
    )
    out = _campaign(saved.pk)
    out.warnings = {str(part): [str(p) for p in found] for part, found in warnings.items()}
    return out


@router.get("", response=CampaignPage, summary="Campaigns")
def campaign_index(request, filters: Query[CampaignFilter]):
    campaigns = Campaign.objects.prefetch_related(*_PREFETCH)
    if filters.status:
        campaigns = campaigns.filter(status=filters.status)
    return keyset_page(campaigns, filters)


@router.post("", response={201: CampaignSavedOut}, summary="Create a draft")
def campaign_create(request, payload: CampaignIn):
    return Status(201, _save(None, payload.model_dump(), request.user))


@router.get("/{int:campaign_id}", response=CampaignOut, summary="Get a campaign")
def campaign_get(request, campaign_id: PathId):
    return _campaign(campaign_id)


@router.patch("/{int:campaign_id}", response=CampaignSavedOut, summary="Change a draft")
def campaign_update(request, campaign_id: PathId, payload: CampaignPatch):
    """Only drafts change (409 otherwise); fields left out (or null) keep their value."""
    campaign = _campaign(campaign_id)
    values = {
        "name": campaign.name,
        "from_name": campaign.from_name,
        "from_email": campaign.from_email,
        "reply_to": campaign.reply_to,
        "lists": [item.pk for item in campaign.lists.all()],
        "exclusion_lists": [item.pk for item in campaign.exclusion_lists.all()],
        "segment": campaign.segment_id,
        "template": campaign.template_id,
        "subject": campaign.subject,
        "html": campaign.html,
        "text": campaign.text,
        "layout": campaign.layout_id,
        "time_zone": campaign.time_zone,
        "retry_window_hours": None,
        "track_opens": campaign.track_opens,
        "track_clicks": campaign.track_clicks,
    }
    # Null keeps a field as it is, except segment, template and layout: there it means "none".
    values.update(
        (name, value)
        for name, value in payload.model_dump(exclude_unset=True).items()
        if value is not None or name in ("segment", "template", "layout")
    )
    return _save(campaign, values, request.user)


@router.delete("/{int:campaign_id}", response={204: None}, summary="Delete a draft")
def campaign_delete(request, campaign_id: PathId):
    campaign_services.campaign_delete(get_object_or_404(Campaign, pk=campaign_id))
    return Status(204, None)


@router.post(
    "/{int:campaign_id}/duplicate", response={201: CampaignOut}, summary="Copy into a new draft"
)
def campaign_duplicate(request, campaign_id: PathId):
    copy = campaign_services.campaign_duplicate(_campaign(campaign_id), by=request.user)
    return Status(201, _campaign(copy.pk))


@router.post(
    "/{int:campaign_id}/resend", response={201: CampaignOut}, summary="Resend as a new draft"
)
def campaign_resend(request, campaign_id: PathId, payload: ResendIn):
    """A draft of a finished campaign's content whose audience is a segment: those of its
    recipients who did not open, click or receive it, minus anyone who left since."""
    draft = campaign_resend_draft(_campaign(campaign_id), payload.kind, by=request.user)
    return Status(201, _campaign(draft.pk))


@router.get("/{int:campaign_id}/audience", response=AudienceOut, summary="Audience size now")
def campaign_audience(request, campaign_id: PathId):
    return {"size": campaign_audience_size(_campaign(campaign_id))}


@router.post("/{int:campaign_id}/test", response={202: TestSendOut}, summary="Send test messages")
def campaign_test_send(request, campaign_id: PathId, payload: TestSendIn):
    """Queued on the transactional queue and sent through the real path; nothing is recorded
    against the campaign. `GET …/test` shows the outcomes (kept an hour)."""
    campaign = _campaign(campaign_id)
    try:
        addresses = test_send_enqueue(campaign, payload.addresses)
    except (InvalidEmailError, ValueError) as exc:
        raise Invalid(str(exc), {"addresses": [str(exc)]}) from None
    return Status(202, {"addresses": addresses})


@router.get(
    "/{int:campaign_id}/test", response=list[TestResultOut], summary="Outcomes of the last test"
)
def campaign_test_results(request, campaign_id: PathId):
    return test_send_results(_campaign(campaign_id))


@router.post("/{int:campaign_id}/schedule", response=CampaignOut, summary="Start at a time")
def campaign_schedule(request, campaign_id: PathId, payload: ScheduleIn):
    campaign_services.campaign_schedule(_campaign(campaign_id), at=payload.scheduled_at)
    return _campaign(campaign_id)


@router.post("/{int:campaign_id}/unschedule", response=CampaignOut, summary="Back to draft")
def campaign_unschedule(request, campaign_id: PathId):
    campaign_services.campaign_unschedule(_campaign(campaign_id))
    return _campaign(campaign_id)


@router.post("/{int:campaign_id}/start", response=CampaignOut, summary="Start sending now")
def campaign_start(request, campaign_id: PathId):
    campaign_services.campaign_start(_campaign(campaign_id))
    return _campaign(campaign_id)


@router.post("/{int:campaign_id}/pause", response=CampaignOut, summary="Pause sending")
def campaign_pause(request, campaign_id: PathId):
    campaign_services.campaign_pause(_campaign(campaign_id))
    return _campaign(campaign_id)


@router.post("/{int:campaign_id}/resume", response=CampaignOut, summary="Resume sending")
def campaign_resume(request, campaign_id: PathId):
    campaign_services.campaign_resume(_campaign(campaign_id))
    return _campaign(campaign_id)


@router.post("/{int:campaign_id}/cancel", response=CampaignOut, summary="Stop for good")
def campaign_cancel(request, campaign_id: PathId):
    campaign_services.campaign_cancel(_campaign(campaign_id))
    return _campaign(campaign_id)
