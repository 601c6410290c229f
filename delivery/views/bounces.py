"""The Bounces section: bounce and complaint events."""

from edm.views import empty_state


def bounce_index(request):
    return empty_state(
        request,
        title="Bounces",
        message="No bounces or complaints have been received.",
        action="Go to campaigns",
        action_url="campaigns:campaign_index",
    )
