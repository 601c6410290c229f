"""The buttons of a campaign's page: start, schedule, pause… duplicate, and the test send.

Each is a POST that calls one service and goes back to the campaign's page; a transition the
campaign's state does not allow comes back with the service's message.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from campaigns.content_forms import ScheduleForm, TestSendForm
from campaigns.models import Campaign
from campaigns.services import campaigns as campaign_services
from campaigns.services.resend import ResendKind, campaign_resend_draft
from delivery.test_send import test_send_enqueue


def _transition(request, pk: int, service: Callable[[Campaign], Campaign], done: str):
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        service(campaign)
    except campaign_services.CampaignStateError as exc:
        messages.error(request, str(exc))
    except campaign_services.CampaignInvalidError as exc:
        messages.error(request, f"Not started: {_problems(exc)}.")
    else:
        messages.success(request, done)
    return redirect(campaign)


def _problems(exc: campaign_services.CampaignInvalidError) -> str:
    return "; ".join(message for found in exc.problems.values() for message in found)


@require_POST
def campaign_start(request, pk):
    return _transition(request, pk, campaign_services.campaign_start, "Sending started.")


@require_POST
def campaign_pause(request, pk):
    return _transition(
        request, pk, campaign_services.campaign_pause, "Paused: sending stops within seconds."
    )


@require_POST
def campaign_resume(request, pk):
    return _transition(request, pk, campaign_services.campaign_resume, "Sending resumed.")


@require_POST
def campaign_cancel(request, pk):
    return _transition(
        request, pk, campaign_services.campaign_cancel, "Cancelled: nothing more will be sent."
    )


@require_POST
def campaign_unschedule(request, pk):
    return _transition(
        request, pk, campaign_services.campaign_unschedule, "Unscheduled: back to draft."
    )


@require_POST
def campaign_schedule(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, f"Not scheduled: {' '.join(errors)}")
        return redirect(campaign)
    zone = form.cleaned_data["time_zone"]
    try:
        campaign_services.campaign_schedule(campaign, at=form.cleaned_data["at"], time_zone=zone)
    except campaign_services.CampaignStateError as exc:
        messages.error(request, str(exc))
    except campaign_services.CampaignInvalidError as exc:
        messages.error(request, f"Not scheduled: {_problems(exc)}.")
    else:
        at = form.cleaned_data["at"]
        messages.success(request, f"Scheduled for {at:%Y-%m-%d %H:%M} ({zone}).")
    return redirect(campaign)


@require_POST
def campaign_duplicate(request, pk):
    copy = campaign_services.campaign_duplicate(get_object_or_404(Campaign, pk=pk), by=request.user)
    messages.success(request, f"Duplicated as “{copy.name}”, a draft.")
    return redirect(copy)


@require_POST
def campaign_resend(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    kind = request.POST.get("kind", "")
    if kind not in ResendKind.values:
        messages.error(request, "Choose who to resend to.")
        return redirect(campaign)
    try:
        draft = campaign_resend_draft(campaign, ResendKind(kind), by=request.user)
    except campaign_services.CampaignStateError as exc:
        messages.error(request, str(exc))
        return redirect(campaign)
    messages.success(
        request, f"“{draft.name}” is a draft for those who {ResendKind(kind).label} “{campaign}”."
    )
    return redirect(draft)


@require_POST
def campaign_test_send(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"No test sent: {' '.join(form.errors['addresses'])}")
        return redirect(campaign)
    try:
        sent_to = test_send_enqueue(campaign, form.cleaned_data["addresses"])
    except ValueError as exc:  # more than 10 addresses
        messages.error(request, f"No test sent: {exc}")
    else:
        messages.success(
            request, f"Test queued to {', '.join(sent_to)}; results appear below in a moment."
        )
    return redirect(f"{campaign.get_absolute_url()}#test-send")
