from django.conf import settings
from django.urls import reverse

# (label, URL name, URL namespaces/names that count as "inside" this section)
NAVIGATION = (
    ("Overview", "overview", ("overview",)),
    (
        "Lists",
        "campaigns:list_index",
        ("list", "contact", "import", "suppression", "segment", "signup_form"),
    ),
    ("Campaigns", "campaigns:campaign_index", ("campaign",)),
    ("Templates", "campaigns:template_index", ("template",)),
    ("Delivery", "delivery:delivery_index", ("delivery", "outbox", "site")),
    ("Bounces", "delivery:bounce_index", ("bounce",)),
    ("Settings", "settings", ("settings",)),
)


def product(request):
    """What every dashboard page shows: navigation and the delivery mode badge."""
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    navigation = [
        {"label": label, "url": reverse(name), "active": current.startswith(prefixes)}
        for label, name, prefixes in NAVIGATION
    ]
    return {"navigation": navigation, "delivery_mode": settings.EDM_DELIVERY_MODE}
