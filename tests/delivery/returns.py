"""Builders of what comes back to us, in the shapes real servers send: DSNs (RFC 3464), ARF
complaint reports (RFC 5965), auto-replies (RFC 3834) and unsubscribe mail; and deliveries
recorded as sent, for tests that bounce them without running a campaign."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone

from campaigns.models import Campaign, Contact
from delivery import message_ids, verp
from delivery.models import CampaignStats, Delivery, SiteStats

MTA = "mx1.mail.example"


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def _head(original: bytes) -> str:
    return original.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")


def dsn(
    original: bytes,
    *,
    to: str,
    recipient: str,
    status: str = "5.1.1",
    action: str = "failed",
    diagnostic: str = "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in "
    "virtual mailbox table",
    message_id: str | None = None,
) -> bytes:
    """A Postfix-style multipart/report DSN about `recipient`, returning `original`'s headers."""
    said = diagnostic.format(rcpt=recipient)
    return _crlf(
        f"""Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@{MTA}>
To: {to}
Subject: Undelivered Mail Returned to Sender
Date: {timezone.now():%a, %d %b %Y %H:%M:%S +0000}
Message-ID: {message_id or f"<{uuid.uuid4().hex}@{MTA}>"}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="DSN-BOUNDARY"

--DSN-BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {MTA}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host mailstore.a.example[127.0.0.1] said: {said} (in reply to
    RCPT TO command)

--DSN-BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; {MTA}
X-Postfix-Queue-ID: 4Xy2Lq0bZkz9sWQ

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mailstore.a.example
Diagnostic-Code: smtp; {said}

--DSN-BOUNDARY
Content-Type: text/rfc822-headers

{_head(original)}

--DSN-BOUNDARY--
"""
    )


def arf(original: bytes, *, to: str, recipient: str, feedback_type: str = "abuse") -> bytes:
    """An ARF complaint report from a mailbox provider's feedback loop, with the message."""
    return _crlf(
        f"""From: Feedback Loop <fbl@{MTA}>
To: {to}
Subject: Complaint about a message from 127.0.0.1
Date: {timezone.now():%a, %d %b %Y %H:%M:%S +0000}
Message-ID: <{uuid.uuid4().hex}@{MTA}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
 boundary="ARF-BOUNDARY"

--ARF-BOUNDARY
Content-Type: text/plain; charset=us-ascii

This is an email abuse report for an email message received from IP
127.0.0.1. For more information about this format please see
https://www.rfc-editor.org/rfc/rfc5965.

--ARF-BOUNDARY
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: ExampleFBL/1.0
Version: 1
Original-Rcpt-To: <{recipient}>
Source-IP: 127.0.0.1
Reported-Domain: shop.example

--ARF-BOUNDARY
Content-Type: message/rfc822
Content-Disposition: inline

{original.decode("utf-8", "replace").replace(chr(13), "")}
--ARF-BOUNDARY--
"""
    )


def auto_reply(original_message_id: str, *, to: str, sender: str) -> bytes:
    """An RFC 3834 vacation notice, sent to the return path of the message it answers."""
    return _crlf(
        f"""From: {sender}
To: {to}
Subject: Automatic reply: out of the office
Date: {timezone.now():%a, %d %b %Y %H:%M:%S +0000}
Message-ID: <{uuid.uuid4().hex}@a.example>
In-Reply-To: {original_message_id}
References: {original_message_id}
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday and will read your message when I am back.
"""
    )


def unsubscribe_mail(*, to: str, sender: str) -> bytes:
    """What a mail client sends to the mailto address of List-Unsubscribe."""
    return _crlf(
        f"""From: {sender}
To: {to}
Subject: unsubscribe
Date: {timezone.now():%a, %d %b %Y %H:%M:%S +0000}
Message-ID: <{uuid.uuid4().hex}@a.example>
Content-Type: text/plain; charset=utf-8

unsubscribe
"""
    )


def original(delivery: Delivery, *, sender_domain: str = "shop.example") -> bytes:
    """The message we sent for `delivery` (headers that matter here, and a short body)."""
    return _crlf(
        f"""Return-Path: <{return_path(delivery)}>
From: Shop <news@{sender_domain}>
To: {delivery.email}
Subject: Spring sale
Message-ID: {message_ids.make(delivery.pk, sender_domain, settings.SECRET_KEY)}
List-Id: <c{delivery.campaign_id}.{sender_domain}>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello
"""
    )


def return_path(delivery: Delivery) -> str:
    """The VERP return path the message for `delivery` carried."""
    return verp.encode(delivery.pk, settings.EDM_BOUNCE_DOMAIN, settings.SECRET_KEY)


def sent_delivery(campaign: Campaign, contact: Contact, *, site: str = "mail.example") -> Delivery:
    """A delivery recorded as sent, with the counters a campaign run leaves (one more sent)."""
    delivery = Delivery.objects.create(
        campaign=campaign,
        contact=contact,
        email=contact.email,
        domain=contact.domain,
        site=site,
        status=Delivery.Status.SENT,
        attempts=1,
        sent_at=timezone.now(),
    )
    stats, _ = CampaignStats.objects.get_or_create(campaign=campaign)
    stats.audience += 1
    stats.sent += 1
    stats.save()
    site_stats, _ = SiteStats.objects.get_or_create(campaign=campaign, site=site)
    site_stats.sent += 1
    site_stats.save()
    return delivery


def counters_add_up(campaign: Campaign) -> bool:
    """docs/DELIVERY.md "Counters": the audience is split over the delivery statuses."""
    s = CampaignStats.objects.get(campaign=campaign)
    parts = s.queued + s.deferred + s.sent + s.bounced_hard + s.bounced_soft + s.failed
    return s.audience == parts + s.cancelled
