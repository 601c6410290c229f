"""Pages for delivery (sites, outbox) and bounces."""

from edm.views import empty_state


def delivery_index(request):
    return empty_state(
        request,
        title="Delivery",
        message="Nothing has been sent yet. Delivery shows sites, queues and the outbox once a "
        "campaign starts.",
        action="Go to campaigns",
        action_url="campaigns:campaign_index",
    )


def bounce_index(request):
    return empty_state(
        request,
        title="Bounces",
        message="No bounces or complaints have been received.",
        action="Go to campaigns",
        action_url="campaigns:campaign_index",
    )
