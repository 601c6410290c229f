"""The public tracking endpoints: `l/<token>` (302 to the link) and `o/<token>.gif` (pixel).

They write nothing to the database and answer at once: each request becomes one event in
Redis (delivery/engagement/events.py), recorded later in batches. If Redis does not answer,
the person still gets their page or image; only the event is lost.
"""

from __future__ import annotations

import base64
import ipaddress
import logging

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.utils import timezone
from django.views.decorators.http import require_safe

from delivery.engagement.classify import Signals, agent_class, network_class
from delivery.engagement.events import Event, event_push
from delivery.engagement.links import link_url
from delivery.engagement.tokens import EventKind, Mark, read_click, read_open

logger = logging.getLogger(__name__)

# The smallest transparent GIF (43 bytes).
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


@login_not_required
@require_safe
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Send the person on to the campaign's link, after queueing the click."""
    mark = read_click(token, settings.SECRET_KEY)
    url = link_url(mark.campaign_id, mark.link_index) if mark is not None else None
    if url is None:
        # Plain text and a fixed message: nothing of the request is echoed back.
        return HttpResponseNotFound(
            "This link is not valid.", content_type="text/plain; charset=utf-8"
        )
    _record(EventKind.CLICK, mark, request)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    """The 1×1 image, after queueing the open."""
    mark = read_open(token, settings.SECRET_KEY)
    if mark is None:
        return HttpResponseNotFound(b"", content_type="text/plain")
    _record(EventKind.OPEN, mark, request)
    response = HttpResponse(PIXEL_GIF, content_type="image/gif")
    # Every open must reach us: no cache between the reader and this server may keep it.
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


def _record(kind: EventKind, mark: Mark, request: HttpRequest) -> None:
    if not settings.EDM_TRACKING:
        return
    signals = Signals(
        at=timezone.now(),
        head=request.method == "HEAD",
        agent=agent_class(request.headers.get("User-Agent", "")),
        network=network_class(client_address(request)),
    )
    try:
        event_push(Event(kind, mark, signals))
    except redis.RedisError as exc:
        logger.warning("engagement event lost, Redis did not answer: %s", exc)


def client_address(request: HttpRequest) -> str:
    """The client's address: the peer's, or the one a proxy on this host forwarded.

    Only a proxy on loopback (the deployed nginx) is believed: anyone else could write any
    X-Forwarded-For. nginx appends the address it saw, so the last entry is the one to read.
    """
    peer = request.META.get("REMOTE_ADDR", "")
    try:
        local = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return peer
    forwarded = request.headers.get("X-Forwarded-For", "")
    if local and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()
    return peer
