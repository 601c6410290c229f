"""The Bounces section: bounce and complaint events, and every message received."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from delivery.forms import BounceFilterForm
from delivery.models import BounceEvent, InboundMessage
from delivery.selectors import bounces as selectors
from edm.json_input import json_read

WEBHOOK_SOURCES = (InboundMessage.Source.SES, InboundMessage.Source.SENDGRID)  # JSON bodies


@require_GET
def bounce_index(request):
    """Events with filters, newest first, and the counts per reason of what the filters keep."""
    form = BounceFilterForm(request.GET, campaigns=selectors.bounce_campaigns())
    filters = form.filters()
    page = selectors.bounce_events_page(
        filters, before=_cursor(request, "before"), after=_cursor(request, "after")
    )
    query = request.GET.copy()
    for cursor in ("before", "after"):
        query.pop(cursor, None)
    return render(
        request,
        "delivery/bounce_index.html",
        {
            "form": form,
            "page": page,
            "reasons": selectors.bounce_reason_counts(filters),
            "query": query.urlencode(),
            "received_any": InboundMessage.objects.exists(),
        },
    )


@require_GET
def bounce_detail(request, pk: int):
    """One event: what it did, and the message it came in next to what the parser read."""
    event = selectors.bounce_event_get(pk)
    if event is None:
        raise Http404("No such bounce event.")
    refused_live = event.source == BounceEvent.Source.DELIVERY
    return render(
        request,
        "delivery/bounce_detail.html",
        {
            "event": event,
            "message": event.inbound,
            **_message_views(event.inbound),
            "attempts": selectors.delivery_attempts(event.delivery_id) if refused_live else [],
        },
    )


@require_GET
def bounce_received(request):
    """Every received message with what came of it: processed, ignored (and why), failed."""
    state = request.GET.get("state", "")
    if state not in InboundMessage.State.values:
        state = ""
    page = selectors.inbound_messages_page(
        state=state, before=_cursor(request, "before"), after=_cursor(request, "after")
    )
    return render(
        request,
        "delivery/bounce_received.html",
        {"page": page, "state": state, "states": InboundMessage.State.choices},
    )


@require_GET
def bounce_received_message(request, pk: int):
    """One received message: raw text and parsed result side by side, and its events."""
    message = selectors.inbound_message_get(pk)
    if message is None:
        raise Http404("No such received message.")
    return render(
        request,
        "delivery/bounce_received_message.html",
        {
            "message": message,
            **_message_views(message),
            "events": selectors.inbound_message_events(message),
        },
    )


def _cursor(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _message_views(message: InboundMessage | None) -> dict:
    """The raw text (while it is kept) and the parsed result, as text for <pre> blocks."""
    if message is None:
        return {"raw": None, "parsed": None, "keep_days": settings.EDM_INBOUND_KEEP_DAYS}
    raw = bytes(message.raw).decode("utf-8", "replace") if message.raw is not None else None
    if raw is not None and message.source in WEBHOOK_SOURCES:
        raw = _pretty_json(raw)
    parsed = json.dumps(message.parsed, indent=2, ensure_ascii=False) if message.parsed else None
    return {"raw": raw, "parsed": parsed, "keep_days": settings.EDM_INBOUND_KEEP_DAYS}


def _pretty_json(text: str) -> str:
    try:
        return json.dumps(json_read(text), indent=2, ensure_ascii=False)
    except ValueError:  # not JSON, or nested too deeply to indent (JsonTooDeepError)
        return text
