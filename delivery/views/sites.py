"""The Delivery section: sites, their limits and state, queues."""

from edm.views import empty_state


def delivery_index(request):
    return empty_state(
        request,
        title="Delivery",
        message="Nothing has been sent yet. Delivery shows sites, queues and the outbox once a "
        "campaign starts.",
        action="Open the outbox",
        action_url="delivery:outbox",
    )
