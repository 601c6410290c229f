"""Default sending limits and the presets of the big mailbox providers.

A site is the registrable domain of a recipient domain's MX hosts (`delivery.mx`), so a preset
lists the sites its provider's MX hosts fall under, e.g. every Gmail and Google Workspace
domain routes to `*.l.google.com` or `smtp.google.com` and shares the site `google.com`.

The figures are deliberately conservative, for a sender whose IP addresses have no reputation
yet; the dashboard lets an operator raise them per site. Where a provider or an experienced
MTA operator published guidance, it is cited next to the figure. Providers that answer "slow
down" are handled by the adaptive controls in `delivery.throttle`, so a preset only has to be
a sensible starting pace, not the provider's exact ceiling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from delivery.limits import Rate, SiteLimits

# Any other site: 5 connections of 100 messages and no message rate, like Postfix's default
# (a concurrency limit per destination, no rate delay); SiteLimits' own defaults, so that
# they have one home. Google and Microsoft have no fixed rate either: they say "slow down"
# (421, 4.7.x) before they block, and the adaptive controls answer that, whereas a fixed
# pace would make a Gmail-heavy campaign take days. Yahoo, Apple and the Chinese providers
# are paced from the start: they block IPs before (or instead of) warning.
DEFAULT_LIMITS = SiteLimits()


@dataclass(frozen=True)
class Preset:
    provider: str
    sites: frozenset[str]
    limits: SiteLimits


def _preset(provider: str, sites: str, **limits: object) -> Preset:
    return Preset(provider, frozenset(sites.split()), replace(DEFAULT_LIMITS, **limits))


PRESETS: tuple[Preset, ...] = (
    # MX: aspmx.l.google.com, alt1-4.aspmx.l.google.com, gmail-smtp-in.l.google.com,
    # smtp.google.com; googlemail.com for the oldest domains. KumoMTA's shipped shaping:
    # 5 connections, 50 messages per connection.
    _preset(
        "Google",
        "google.com googlemail.com",
        max_connections=5,
        messages_per_connection=50,
    ),
    # MX: <domain>.mail.protection.outlook.com (Microsoft 365),
    # hotmail-com.olc.protection.outlook.com / outlook-com.olc… (consumer), older
    # mx1-4.hotmail.com. Both edge groups fall under outlook.com here.
    _preset(
        "Microsoft",
        "outlook.com hotmail.com",
        max_connections=5,
        messages_per_connection=50,
    ),
    # MX: mta5/6/7.am0.yahoodns.net (Yahoo), mx-aol.mail.gm0.yahoodns.net (AOL). Yahoo's
    # guidance to KumoMTA: 20 messages per connection.
    _preset(
        "Yahoo",
        "yahoodns.net",
        max_connections=5,
        messages_per_connection=20,
        rate=Rate(300, 60),
    ),
    # MX: mx01.mail.icloud.com, mx02.mail.icloud.com (icloud.com, me.com, mac.com).
    _preset(
        "Apple",
        "icloud.com",
        max_connections=5,
        messages_per_connection=20,
        rate=Rate(300, 60),
    ),
    # MX: mx1/mx2/mx3.qq.com (QQ Mail, foxmail.com), mxbiz1/mxbiz2.qq.com and the older
    # mx.exmail.qq.com (Tencent Exmail). QQ limits per IP per minute, hour and day and answers
    # "550 Ip/Connection/Domain frequency limited"; KumoMTA's community shaping uses 4
    # connections, 8 messages per connection.
    _preset(
        "Tencent QQ Mail / Exmail",
        "qq.com",
        max_connections=3,
        messages_per_connection=10,
        rate=Rate(120, 60),
    ),
    # MX: 163mx00-03.mxmail.netease.com, 126mx00-02…, yeahmx00-01… (163.com, 126.com,
    # yeah.net), vip163mx…, qiye163mx01… (NetEase enterprise); older mx.qiye.163.com.
    # NetEase answers "450 MI:DMC" when one connection carries too many messages; KumoMTA's
    # community shaping uses 4 connections, 7 messages per connection.
    _preset(
        "NetEase (163.com, 126.com, yeah.net)",
        "netease.com 163.com",
        max_connections=3,
        messages_per_connection=8,
        rate=Rate(120, 60),
    ),
    # MX: freemx1-3.sinamail.sina.com.cn (sina.com, sina.cn), vipmx.sina.com.cn,
    # mx.sina.net (Sina enterprise mail).
    _preset(
        "Sina",
        "sina.com.cn sina.net sina.com",
        max_connections=3,
        messages_per_connection=20,
        rate=Rate(60, 60),
    ),
    # MX: sohumx1.sohu.com, mx.sohu.com (sohu.com), mx.sohu.net (Sohu enterprise mail).
    _preset(
        "Sohu",
        "sohu.com sohu.net",
        max_connections=3,
        messages_per_connection=20,
        rate=Rate(60, 60),
    ),
    # MX: mx1.mail.aliyun.com (aliyun.com, the former yahoo.com.cn), mxw/mxn.mxhichina.com
    # and mx1-3.qiye.aliyun.com (Alibaba enterprise mail). Its anti-spam answers
    # "ANTISPAM_BAT … currently unexpected sending" to a sender that connects too often.
    _preset(
        "Alibaba Mail (Aliyun)",
        "aliyun.com mxhichina.com",
        max_connections=3,
        messages_per_connection=20,
        rate=Rate(60, 60),
    ),
)

_BY_SITE = {site: preset for preset in PRESETS for site in preset.sites}
_FIELDS = {f.name for f in fields(SiteLimits)}


def preset_for(site: str) -> Preset | None:
    """The provider preset of `site` (a registrable domain, any case), if there is one."""
    return _BY_SITE.get(site.lower().rstrip("."))


def limits_for(site: str, overrides: Mapping[str, object] | None = None) -> SiteLimits:
    """`site`'s limits: the defaults, then its provider's preset, then `overrides`.

    `overrides` holds the site's own settings by field name of SiteLimits; a rate may be a
    Rate, a string like "100/min", or None for no rate limit.
    """
    preset = preset_for(site)
    limits = preset.limits if preset else DEFAULT_LIMITS
    if not overrides:
        return limits
    unknown = set(overrides) - _FIELDS
    if unknown:
        raise ValueError(f"Unknown site limit(s): {', '.join(sorted(unknown))}.")
    changes = dict(overrides)
    if isinstance(changes.get("rate"), str):
        changes["rate"] = Rate.parse(changes["rate"])
    return replace(limits, **changes)
