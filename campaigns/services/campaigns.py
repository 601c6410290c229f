"""Campaign lifecycle: draft edits, duplicate, schedule, start, pause, resume, cancel.

    draft ──start──▶ sending ◀──resume── paused
      │ ▲               │  └──pause──▶──┘
  schedule│unschedule   └──(nothing left)──▶ finished
      ▼ │
    scheduled ──(its time)──▶ sending          any state but finished ──cancel──▶ cancelled

Each transition is one conditional UPDATE, so two requests (or a request and the scheduler)
racing on one campaign cannot both win. The delivery engine does the sending: starting hands
the campaign to delivery.planning, and pause/resume/cancel reach running batches through
delivery.control within seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.models import Campaign, ContactList, Segment, Template
from campaigns.render_budget import RenderLimits
from campaigns.segments.definition import SegmentInvalidError
from campaigns.selectors.campaigns import campaign_audience
from campaigns.selectors.previews import PLACEHOLDER_UNSUBSCRIBE, PLACEHOLDER_VIEW
from campaigns.services.segments import definition_check, segment_for_audience
from campaigns.services.templates import TemplateInvalidError, content_check
from campaigns.templating import (
    Content,
    InvalidContentError,
    Part,
    Problem,
    TemplateContact,
    TemplateRenderError,
    compile_content,
    render,
)
from delivery import control, planning

Status = Campaign.Status
# Contacts of the audience rendered for before a start: a template that fails (or runs past its
# budget) for the first of them would fail for most, so the campaign is refused instead.
RENDERED_BEFORE_START = 5


class CampaignStateError(Exception):
    """The campaign is not in a state that allows this."""


class CampaignInvalidError(ValueError):
    """The campaign cannot be saved or started as it is; `problems` says why, by field.

    `content_problems` holds the template errors among them with their line and column.
    """

    def __init__(
        self,
        problems: dict[str, list[str]],
        content_problems: dict[Part, list[Problem]] | None = None,
    ):
        self.problems = problems
        self.content_problems = content_problems or {}
        super().__init__("; ".join(f"{k}: {m}" for k, found in problems.items() for m in found))


def campaign_content(campaign: Campaign) -> Content:
    return Content(
        subject=campaign.subject,
        html=campaign.html,
        text=campaign.text,
        layout=campaign.layout.html if campaign.layout_id else "",
    )


def campaign_save(
    campaign: Campaign | None,
    *,
    name: str,
    from_name: str,
    from_email: str,
    reply_to: str = "",
    lists: Iterable[ContactList],
    exclusion_lists: Iterable[ContactList] = (),
    segment: Segment | None = None,
    definition: Any = None,
    subject: str,
    html: str,
    text: str = "",
    layout: Template | None = None,
    template: Template | None = None,
    time_zone: str = "UTC",
    retry_window: dt.timedelta | None = None,
    track_opens: bool = True,
    track_clicks: bool = True,
    by=None,
) -> tuple[Campaign, dict[Part, list[Problem]]]:
    """Create a draft or change one; returns it with template warnings.

    `definition`, when given, is the conditions the editor's audience builder shows:
    `segment_for_audience` decides which segment they stand for.
    Raises CampaignStateError for a campaign that is no longer a draft and
    CampaignInvalidError (nothing saved) for bad addresses, time zone or template errors.
    """
    if campaign is not None and not campaign.editable:
        raise CampaignStateError(f"Only drafts can be edited; this campaign is {campaign.status}.")
    problems: dict[str, list[str]] = {}
    from_email = _address(from_email, "from_email", problems)
    reply_to = _address(reply_to, "reply_to", problems) if reply_to.strip() else ""
    _time_zone(time_zone, problems)
    group = None
    if definition is not None:
        try:
            group = definition_check(definition)
        except SegmentInvalidError as exc:
            problems.update(exc.problems)
    content = Content(subject=subject, html=html, text=text, layout=layout.html if layout else "")
    warnings: dict[Part, list[Problem]] = {}
    content_problems: dict[Part, list[Problem]] = {}
    try:
        warnings = content_check(content)
    except TemplateInvalidError as exc:  # reported with the other problems
        content_problems = exc.problems
        for part, found in exc.problems.items():
            problems.setdefault(str(part), []).extend(str(problem) for problem in found)
    if problems:
        raise CampaignInvalidError(problems, content_problems)

    campaign = campaign or Campaign(created_by=by)
    campaign.name, campaign.from_name = name.strip(), from_name.strip()
    campaign.from_email, campaign.reply_to = from_email, reply_to
    campaign.subject, campaign.html, campaign.text = subject, html, text
    campaign.layout, campaign.template, campaign.time_zone = layout, template, time_zone
    if retry_window is not None:
        campaign.retry_window = retry_window
    campaign.track_opens, campaign.track_clicks = track_opens, track_clicks
    campaign.updated_at = timezone.now()
    with transaction.atomic():
        if group is not None:
            segment = segment_for_audience(segment, group, campaign=campaign, name=campaign.name)
        campaign.segment = segment
        campaign.save()
        campaign.lists.set(lists)
        campaign.exclusion_lists.set(exclusion_lists)
    return campaign, warnings


def campaign_duplicate(campaign: Campaign, *, by=None) -> Campaign:
    """A new draft with the same sender, audience and content."""
    return campaign_copy(campaign, name=f"{campaign.name} (copy)", segment=campaign.segment, by=by)


def campaign_copy(campaign: Campaign, *, name: str, segment: Segment | None, by=None) -> Campaign:
    """A new draft with the sender, lists and content of `campaign`, and this segment."""
    copy = Campaign(
        name=name,
        segment=segment,
        from_name=campaign.from_name,
        from_email=campaign.from_email,
        reply_to=campaign.reply_to,
        template=campaign.template,
        subject=campaign.subject,
        html=campaign.html,
        text=campaign.text,
        layout=campaign.layout,
        time_zone=campaign.time_zone,
        retry_window=campaign.retry_window,
        track_opens=campaign.track_opens,
        track_clicks=campaign.track_clicks,
        created_by=by,
    )
    with transaction.atomic():
        copy.save()
        copy.lists.set(campaign.lists.all())
        copy.exclusion_lists.set(campaign.exclusion_lists.all())
    return copy


def campaign_delete(campaign: Campaign) -> None:
    """Delete a draft; a campaign that was scheduled or sent is cancelled instead, not deleted."""
    deleted, _ = Campaign.objects.filter(pk=campaign.pk, status=Status.DRAFT).delete()
    if not deleted:
        campaign.refresh_from_db(fields=["status"])
        raise CampaignStateError(f"Only drafts can be deleted; this campaign is {campaign.status}.")


def campaign_schedule(
    campaign: Campaign, *, at: dt.datetime, time_zone: str | None = None
) -> Campaign:
    """Start the campaign at `at` (an aware datetime); the scheduler starts it then.

    `time_zone` (an IANA name), when given, is kept as the zone the page shows the time in.
    """
    if timezone.is_naive(at):
        raise CampaignInvalidError({"scheduled_at": ["a time zone is needed"]})
    if at <= timezone.now():
        raise CampaignInvalidError({"scheduled_at": ["that time has passed; choose a later one"]})
    zone = {}
    if time_zone is not None:
        problems: dict[str, list[str]] = {}
        _time_zone(time_zone, problems)
        if problems:
            raise CampaignInvalidError(problems)
        zone["time_zone"] = time_zone
    _check_startable(campaign)
    with transaction.atomic():
        _transition(campaign, {Status.DRAFT}, Status.SCHEDULED, scheduled_at=at, **zone)
        planning.campaign_start_at(campaign.pk, at)
    return campaign


def campaign_unschedule(campaign: Campaign) -> Campaign:
    """Back to draft; the scheduled start does nothing when its time comes."""
    _transition(campaign, {Status.SCHEDULED}, Status.DRAFT, scheduled_at=None)
    return campaign


def campaign_start(campaign: Campaign) -> Campaign:
    """Start sending now: the audience is snapshotted into deliveries by a job."""
    _check_startable(campaign)
    with transaction.atomic():
        _transition(
            campaign, {Status.DRAFT, Status.SCHEDULED}, Status.SENDING, started_at=timezone.now()
        )
        control.campaign_state_publish(campaign.pk, Status.SENDING)
        planning.campaign_plan_enqueue(campaign.pk)
    return campaign


def campaign_pause(campaign: Campaign) -> Campaign:
    """Stop sending; running batches stop within seconds and keep the rest queued."""
    with transaction.atomic():
        _transition(campaign, {Status.SENDING}, Status.PAUSED)
        control.campaign_state_publish(campaign.pk, Status.PAUSED)
    return campaign


def campaign_resume(campaign: Campaign) -> Campaign:
    """Carry on sending what is left."""
    with transaction.atomic():
        _transition(campaign, {Status.PAUSED}, Status.SENDING)
        control.campaign_state_publish(campaign.pk, Status.SENDING)
        planning.campaign_resume_enqueue(campaign.pk)
    return campaign


def campaign_cancel(campaign: Campaign) -> Campaign:
    """Stop for good: nothing more is sent; what was sent stays recorded."""
    allowed = {Status.DRAFT, Status.SCHEDULED, Status.SENDING, Status.PAUSED}
    with transaction.atomic():
        _transition(campaign, allowed, Status.CANCELLED, finished_at=timezone.now())
        control.campaign_state_publish(campaign.pk, Status.CANCELLED)
        planning.campaign_cancel_enqueue(campaign.pk)
    return campaign


def _transition(campaign: Campaign, allowed: set[str], to: str, **fields) -> None:
    now = timezone.now()
    changed = Campaign.objects.filter(pk=campaign.pk, status__in=allowed).update(
        status=to, updated_at=now, **fields
    )
    if not changed:
        campaign.refresh_from_db(fields=["status"])
        raise CampaignStateError(f"A {campaign.status} campaign cannot be {_PAST[to]}.")
    campaign.status, campaign.updated_at = to, now
    for name, value in fields.items():
        setattr(campaign, name, value)


_PAST = {
    Status.SCHEDULED: "scheduled",
    Status.DRAFT: "unscheduled",
    Status.SENDING: "started",
    Status.PAUSED: "paused",
    Status.CANCELLED: "cancelled",
}


def _check_startable(campaign: Campaign) -> None:
    problems: dict[str, list[str]] = {}
    if not campaign.lists.exists():
        problems["lists"] = ["choose at least one list to send to"]
    if not campaign.subject.strip():
        problems["subject"] = ["the subject is empty"]
    try:
        content_check(campaign_content(campaign))
    except TemplateInvalidError as exc:
        problems.setdefault("content", []).append(str(exc))
    else:
        failure = _first_render_failure(campaign)
        if failure:
            problems.setdefault("content", []).append(failure)
    if problems:
        raise CampaignInvalidError(problems)


def _first_render_failure(campaign: Campaign) -> str | None:
    """Why rendering fails for one of the first contacts of the audience, or None."""
    try:
        compiled = compile_content(
            campaign_content(campaign),
            campaign_name=campaign.name,
            limits=RenderLimits.from_settings(settings),
        )
    except InvalidContentError as exc:
        return str(exc)
    for contact in campaign_audience(campaign).order_by("pk")[:RENDERED_BEFORE_START]:
        try:
            render(
                compiled,
                TemplateContact(contact.email, contact.name, contact.attributes),
                unsubscribe_url=PLACEHOLDER_UNSUBSCRIBE,
                view_online_url=PLACEHOLDER_VIEW,
            )
        except TemplateRenderError as exc:
            return f"the message cannot be rendered for {contact.email}: {exc}"
    return None


def _address(value: str, field: str, problems: dict[str, list[str]]) -> str:
    try:
        return normalize_email(value).email
    except InvalidEmailError as exc:
        problems.setdefault(field, []).append(str(exc))
        return value


def _time_zone(name: str, problems: dict[str, list[str]]) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.setdefault("time_zone", []).append(f"unknown time zone {name!r}")
