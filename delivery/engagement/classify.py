"""People or machines: classifying opens and clicks (plain Python, no Django).

Two steps, because the web process must not keep client addresses:

1. At the request (delivery/engagement/views.py): `agent_class(user_agent)` and
   `network_class(address)` reduce the request to two small enums; the address itself is
   dropped there and then.
2. At recording (delivery/engagement/recording.py), with the delivery's send time and the
   other clicks of the same message at hand: `classify_open` and `classify_click`.

Opens: Apple Mail Privacy Protection fetches every image of a message when it arrives, from
Apple's addresses, with a bare "Mozilla/5.0" user agent; those are machine opens, as are
HEAD requests and scanners. Google's image proxy (GoogleImageProxy) and Yahoo's fetch an
image when a person opens the message: those are people.
Clicks: HEAD requests, known scanner agents and ranges, a click within SCANNER_SECONDS of
delivery, and a message whose different links are hit within BURST_SECONDS of each other
(a person follows one link at a time) are bots.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import ipaddress
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

# A click this soon after the message was accepted comes from a gateway scanning it.
SCANNER_SECONDS = 5.0
# Clicks on two different links of one message within this long come from a scanner.
BURST_SECONDS = 3.0

_NETWORKS_FILE = Path(__file__).with_name("data") / "networks.txt"
_SCANNER_AGENT = re.compile(
    r"safelinks|defender|microsoft office protection|bingpreview|proofpoint|mimecast|"
    r"barracuda|symantec|messagelabs|trend ?micro|forcepoint|zscaler|fireeye|ironport|"
    r"cisco|sophos|checkpoint|spamtitan|vadesecure|appriver|headlesschrome|phantomjs|"
    r"python-requests|python-urllib|aiohttp|curl/|wget/|go-http-client|java/|okhttp|"
    r"libwww|httpclient|bot\b|crawler|spider|scanner",
    re.IGNORECASE,
)
_PERSON_PROXY = re.compile(r"GoogleImageProxy|YahooMailProxy", re.IGNORECASE)


class Agent(enum.StrEnum):
    """What a request's User-Agent says about who sent it."""

    BROWSER = "b"  # a mail client or browser a person uses
    PERSON_PROXY = "p"  # Google's or Yahoo's image proxy, fetching as a person opens
    GENERIC = "g"  # empty or a bare "Mozilla/5.0": Apple's MPP and other prefetchers
    SCANNER = "s"  # a link scanner, crawler or script


class Network(enum.StrEnum):
    """Where a request came from, as far as classification needs to know."""

    OTHER = "-"
    APPLE = "a"  # Apple's prefetching proxies (Mail Privacy Protection)
    SCANNER = "s"  # a mail security gateway


class Verdict(enum.StrEnum):
    HUMAN = "human"
    MACHINE = "machine"  # an open no person made: privacy proxy, prefetcher
    BOT = "bot"  # a click no person made: link scanner


class Signals(NamedTuple):
    """One request, reduced to what classification reads."""

    at: dt.datetime
    head: bool  # a HEAD request: checks a link or an image without showing it
    agent: Agent
    network: Network


def agent_class(user_agent: str) -> Agent:
    """The class of a User-Agent header value."""
    value = user_agent.strip()
    if _PERSON_PROXY.search(value):
        return Agent.PERSON_PROXY
    if value in ("", "Mozilla/5.0"):
        return Agent.GENERIC
    if _SCANNER_AGENT.search(value):
        return Agent.SCANNER
    return Agent.BROWSER


def network_class(address: str) -> Network:
    """The class of a client address (IPv4 or IPv6); an unreadable address is OTHER."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return Network.OTHER
    for network, kind in _networks():
        if ip.version == network.version and ip in network:
            return kind
    return Network.OTHER


def classify_open(signals: Signals) -> Verdict:
    """Whether a pixel request is a person opening the message."""
    if signals.agent is Agent.PERSON_PROXY and not signals.head:
        return Verdict.HUMAN
    if signals.head or signals.network is not Network.OTHER:
        return Verdict.MACHINE
    if signals.agent in (Agent.GENERIC, Agent.SCANNER):
        return Verdict.MACHINE
    return Verdict.HUMAN


def classify_click(signals: Signals, *, sent_at: dt.datetime | None, in_burst: bool) -> Verdict:
    """Whether a tracked-link request is a person following the link."""
    if signals.head or in_burst or signals.agent is Agent.SCANNER:
        return Verdict.BOT
    if signals.network is Network.SCANNER:
        return Verdict.BOT
    if sent_at is not None and (signals.at - sent_at).total_seconds() < SCANNER_SECONDS:
        return Verdict.BOT
    return Verdict.HUMAN


class Click(NamedTuple):
    link_index: int
    at: dt.datetime


def burst_clicks(clicks: Sequence[Click]) -> set[int]:
    """Positions in `clicks` (one message's) that hit a different link within BURST_SECONDS."""
    order = sorted(range(len(clicks)), key=lambda i: clicks[i].at)
    found: set[int] = set()
    for n, i in enumerate(order):
        for j in order[n + 1 :]:
            if (clicks[j].at - clicks[i].at).total_seconds() > BURST_SECONDS:
                break
            if clicks[j].link_index != clicks[i].link_index:
                found.update((i, j))
    return found


@functools.cache
def _networks() -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Network], ...]:
    kinds = {"apple": Network.APPLE, "scanner": Network.SCANNER}
    return tuple(_read_networks(_NETWORKS_FILE.read_text().splitlines(), kinds))


def _read_networks(lines: Iterable[str], kinds: dict[str, Network]):
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            kind, cidr = line.split()
            yield ipaddress.ip_network(cidr), kinds[kind]
