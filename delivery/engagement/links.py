"""A campaign's links table: written once when its content is compiled, read by the redirect.

The redirect resolves a click token's link index through a per-process cache of the table
(one query per campaign per process), so a burst of clicks reads the database once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from delivery.models import Link

_KEEP = 64  # campaigns whose links one process keeps
_cache: OrderedDict[int, dict[int, str]] = OrderedDict()
_lock = threading.Lock()


def links_store(campaign_id: int, urls: Sequence[str]) -> None:
    """Store a campaign's tracked URLs (index i + 1 is urls[i]); already stored rows stay."""
    Link.objects.bulk_create(
        [Link(campaign_id=campaign_id, index=i, url=url) for i, url in enumerate(urls, start=1)],
        ignore_conflicts=True,
    )


def link_url(campaign_id: int, index: int) -> str | None:
    """The URL of link `index` of a campaign, or None if the campaign has no such link."""
    with _lock:
        urls = _cache.get(campaign_id)
        if urls is not None:
            _cache.move_to_end(campaign_id)
    # A cached table lacking the index is read again: its campaign may have been compiled
    # (and its links stored) after this process first read it.
    if urls is None or index not in urls:
        urls = dict(Link.objects.filter(campaign_id=campaign_id).values_list("index", "url"))
        with _lock:
            _cache[campaign_id] = urls
            if len(_cache) > _KEEP:
                _cache.popitem(last=False)
    return urls.get(index)
