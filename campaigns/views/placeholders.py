"""Sections another part of the work builds: the campaign list and a campaign's live report."""

from django.shortcuts import get_object_or_404

from campaigns.models import Campaign
from edm.views import empty_state


def campaign_index(request):
    return empty_state(
        request,
        title="Campaigns",
        message="The list of campaigns is not built yet. Start a new one from a template or "
        "from scratch.",
        action="New campaign",
        action_url="campaigns:campaign_create",
    )


def campaign_report(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    return empty_state(
        request,
        title=f"Report of {campaign.name}",
        message="The live report is not built yet.",
        action="All campaigns",
        action_url="campaigns:campaign_index",
    )
