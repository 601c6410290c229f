"""RQ jobs of the delivery engine: thin glue that loads rows by id and calls the services."""

from __future__ import annotations

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.campaigns import CampaignStateError, campaign_start
from delivery import batches, dispatch, planning, reconcile
from delivery.engagement import recording
from delivery.inbound.processing import inbound_process, inbound_requeue
from delivery.inbound.store import inbound_raw_expire
from delivery.models import SenderDomain
from delivery.services import sender_domains
from delivery.test_send import test_send
from delivery.tx.send import tx_request_send


def plan_campaign(campaign_id: int) -> None:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is not None:
        planning.campaign_plan(campaign)


def start_scheduled_campaign(campaign_id: int) -> None:
    """RQ's scheduler calls this at the campaign's time; unscheduled campaigns are left alone."""
    campaign = Campaign.objects.filter(
        pk=campaign_id, status=Campaign.Status.SCHEDULED, scheduled_at__lte=timezone.now()
    ).first()
    if campaign is None:
        return
    try:
        campaign_start(campaign)
    except CampaignStateError:
        return  # the reconciler started it first


def send_batch(batch_id: int) -> str:
    return str(batches.batch_send(batch_id))


def resume_campaign(campaign_id: int) -> None:
    campaign = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).first()
    if campaign is not None:
        dispatch.campaign_sites_dispatch(campaign)


def cancel_campaign(campaign_id: int) -> None:
    campaign = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.CANCELLED).first()
    if campaign is not None:
        planning.campaign_cancel_remaining(campaign)


def reconcile_all() -> dict[str, int]:
    return reconcile.reconcile()


def inbound_expire() -> int:
    return inbound_raw_expire()


def process_inbound(inbound_id: int) -> str:
    message = inbound_process(inbound_id)
    return f"{message.state}: {message.result or message.error}" if message else "gone"


def requeue_inbound() -> int:
    return inbound_requeue()


def sender_domain_check(sender_domain_id: int) -> str:
    sender = SenderDomain.objects.filter(pk=sender_domain_id).first()
    if sender is None:
        return "deleted meanwhile"
    check = sender_domains.sender_domain_check(sender)
    problems = [f"{finding.record.value} {finding.status.value}" for finding in check.problems]
    return ", ".join(problems) or "ok"


def send_test(campaign_id: int, addresses: list[str]) -> list[str]:
    campaign = Campaign.objects.get(pk=campaign_id)
    return [f"{r.address}: {r.outcome} {r.detail}" for r in test_send(campaign, addresses)]


def send_tx(request_id: int) -> int:
    return tx_request_send(request_id)


def engagement_record() -> int:
    """Record the queued opens and clicks (woken by the first event, and swept by cron)."""
    return recording.engagement_record()
