"""Recognise the SMTP replies that say "slow down" to a sending site.

`slow_down_signal(code, enhanced, text)` reads one reply and says whether it asks us to send
to that site more gently, how (too many connections, too many messages, a reputation-based
limit, a busy server, a used-up quota), and how long each step of recovery should last; the
caller passes that to `Throttle.slow_down(site, step=signal.backoff)` and defers the message.

A signal is about the sender's pace, never about the recipient: defer the message even when
the code is 5xx (QQ answers "550 Ip frequency limited", NetEase "554 HL:ITC", GoDaddy "550 …
too many recipients this hour"). For `QUOTA` (an hourly or daily allowance used up) slowing
down alone does not help: suspend the site for the backoff as well.

The texts are the providers' own, collected from their help pages, postmaster sites, real
bounces (Sisimai's corpus) and MTA rule sets (KumoMTA's shaping files); the tests quote them.
Replies that merely sound similar but concern one recipient (Gmail's "receiving mail at a rate
that prevents additional messages", "too many recipients") or greylisting are not signals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class SlowDownKind(StrEnum):
    CONNECTIONS = "connections"  # too many simultaneous connections, or connections too often
    RATE = "rate"  # too many messages in a short time, or on one connection
    REPUTATION = "reputation"  # rate limited because of the sender's reputation or complaints
    BUSY = "busy"  # the receiving server is overloaded
    QUOTA = "quota"  # an hourly or daily allowance is used up


# Suggested seconds per step of recovery (Throttle.slow_down's `step`): a reputation limit
# or a quota lasts longer than a momentary excess.
BACKOFF = {
    SlowDownKind.CONNECTIONS: 300.0,
    SlowDownKind.RATE: 300.0,
    SlowDownKind.BUSY: 300.0,
    SlowDownKind.REPUTATION: 1800.0,
    SlowDownKind.QUOTA: 3600.0,
}


@dataclass(frozen=True)
class SlowDownSignal:
    kind: SlowDownKind
    backoff: float  # seconds per step of recovery


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    kind: SlowDownKind | None  # None: a look-alike that is not a slow-down
    temporary_only: bool = False  # only for 4xx replies (a 5xx with the same words is a block)
    enhanced: re.Pattern[str] | None = None  # and the enhanced status code must match


def _rule(pattern: str, kind: SlowDownKind | None, **options) -> _Rule:
    return _Rule(re.compile(pattern, re.IGNORECASE), kind, **options)


# AUTH replies (RFC 4954) are about credentials even when they mention frequency, like QQ's
# "535 Login fail. Account is abnormal, …, login frequency limited, or system is busy."
_AUTHENTICATION = frozenset({530, 534, 535, 538})
_ENHANCED = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")
_ANY = r".*"
_MICROSOFT = re.compile(r"4\.7\.[56]\d\d")

# First match wins: providers' own codes, then look-alikes, then generic wording.
_RULES: tuple[_Rule, ...] = (
    # NetEase (163.com, 126.com, yeah.net; help.163.com's code table). HL:ICC: too many
    # concurrent connections from the IP; HL:ITC, MI:STC, RP:TRC: the day's allowance is used
    # up; MI:DMC / RP:DRC: too many messages or recipients on one connection; the rest: too
    # many messages in a short time (CEL/CCL are "abnormal sending behaviour" deferrals).
    _rule(r"\bHL:ICC\b", SlowDownKind.CONNECTIONS),
    _rule(r"\b(HL:ITC|MI:STC|RP:TRC)\b", SlowDownKind.QUOTA),
    _rule(r"\b(HL:IFC|HL:IFQ|MI:(CEL|DMC|CCL|SFQ)|RP:(CEL|CCL|DRC|RCL|QRC))\b", SlowDownKind.RATE),
    # Tencent (QQ Mail, Exmail): "550 Connection/Ip/Sender/Domain frequency limited".
    _rule(r"connection frequency limited", SlowDownKind.CONNECTIONS),
    _rule(r"frequency limited", SlowDownKind.RATE),
    # Yahoo and AOL: "421 4.7.0 [TSS04] Messages from … temporarily deferred due to unexpected
    # volume or user complaints"; the same codes with 5xx are blocks, not deferrals.
    _rule(r"\[(TSS?0\d|IPTS0\d)\]", SlowDownKind.REPUTATION, temporary_only=True),
    # Microsoft: 4.7.500-4.7.699 are its throttling codes ("451 4.7.500 Server busy. Please
    # try again later from [ip]", "451 4.7.650 The mail server [ip] has been temporarily rate
    # limited due to IP reputation").
    _rule(r"busy", SlowDownKind.BUSY, temporary_only=True, enhanced=_MICROSOFT),
    _rule(_ANY, SlowDownKind.REPUTATION, temporary_only=True, enhanced=_MICROSOFT),
    # Gmail: "421-4.7.28 Gmail has detected an unusual rate of mail originating from your
    # IP/SPF domain … temporarily rate limited".
    _rule(_ANY, SlowDownKind.REPUTATION, temporary_only=True, enhanced=re.compile(r"4\.7\.28")),
    # GoDaddy: "550 5.1.1 <…> - ip has sent to too many recipients this hour. IB607".
    _rule(r"too many recipients this hour", SlowDownKind.QUOTA),
    # Alibaba Mail: "454 Transient reject by behaviour spam at DATA State … ANTISPAM_BAT[…]:
    # currently unexpected sending".
    _rule(r"unexpected sending", SlowDownKind.RATE),
    # Look-alikes: one recipient's mailbox receiving too fast (Gmail 4.2.1/5.2.1), too many
    # recipients of one message, protocol errors, greylisting.
    _rule(r"receiving (mail|messages) (at a rate|too quickly|too fast)", None),
    _rule(r"too many (recipients|errors|invalid|bad|unknown)", None),
    _rule(r"gr[ae]y[ -]?list", None),
    # Generic wording of temporary replies about the sender's standing (a 5xx with these words
    # is a block, not a deferral).
    _rule(
        r"reputation|unusual rate|unexpected volume|temporarily deferred|deferred due to"
        r"|complaints",
        SlowDownKind.REPUTATION,
        temporary_only=True,
    ),
    # Generic wording, whatever the code.
    _rule(
        r"too many (concurrent |simultaneous |smtp |open )*connections"
        r"|connection (rate|frequency|limit)|concurrent (server )?connections"
        r"|max(imum)? (number of )?(concurrent )?connections|并发|连接数",
        SlowDownKind.CONNECTIONS,
    ),
    _rule(
        r"(per|this|each) (hour|day)\b|daily (limit|quota)|hourly (limit|quota)|sending quota"
        r"|当天|每日",
        SlowDownKind.QUOTA,
    ),
    _rule(
        r"rate[ -]?limit|too frequent|too many messages|messages? per (connection|session)"
        r"|too fast|slow(ly)? down|throttl|频率|频繁",
        SlowDownKind.RATE,
    ),
    # Generic wording of temporary replies only (a 5xx with these words is a block).
    _rule(r"busy|overloaded", SlowDownKind.BUSY, temporary_only=True),
    # Gmail: "421-4.7.0 Try again later, closing connection." (also 451 4.7.1 … TempFail).
    _rule(r"try again later,? closing connection", SlowDownKind.RATE, temporary_only=True),
)


def slow_down_signal(code: int, enhanced: str | None, text: str) -> SlowDownSignal | None:
    """The slow-down that reply `code enhanced text` asks for, or None if it asks for none."""
    if code < 400 or code in _AUTHENTICATION:
        return None
    text = " ".join(text.split())  # multi-line replies: match across the line breaks
    if enhanced is None:
        found = _ENHANCED.search(text)
        enhanced = found[1] if found else ""
    for rule in _RULES:
        if rule.temporary_only and code >= 500:
            continue
        if rule.enhanced is not None and not rule.enhanced.fullmatch(enhanced):
            continue
        if rule.pattern.search(text):
            return SlowDownSignal(rule.kind, BACKOFF[rule.kind]) if rule.kind else None
    return None
