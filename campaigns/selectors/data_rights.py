"""Everything about one contact, as the JSON a data-access request is answered with.

The export is a list of sections, each a small function from the contact to its rows, so a
new kind of data is one function and one line in SECTIONS (per-link clicks go there when
their model lands). Each section reads in a bounded number of queries
whatever the contact's history: deliveries in keyset chunks along the contact's index,
everything else in one query. `contact_data_export_chunks` streams the same document, so a
contact with thousands of deliveries is never held in memory as one string.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Consent, Contact, Membership, Suppression, Unsubscribe
from delivery.models import BounceEvent, Delivery, TxMessage

FORMAT = "edm.contact/1"
DELIVERY_CHUNK = 1000

Row = dict[str, Any]


class Section(NamedTuple):
    name: str
    rows: Callable[[Contact], Iterable[Row]]


def _campaign(campaign_id: int, name: str) -> Row:
    return {"id": campaign_id, "name": name}


def contact_fields(contact: Contact) -> Row:
    """The contact's own row: address, name, attributes, status, do-not-track and dates."""
    return {
        "id": contact.pk,
        "email": contact.email,
        "name": contact.name,
        "attributes": contact.attributes,
        "status": contact.status,
        "do_not_track": contact.do_not_track,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
    }


def memberships(contact: Contact) -> Iterable[Row]:
    """Each list the contact is on, with the membership's status and dates."""
    found = Membership.objects.filter(contact=contact).select_related("list").order_by("list__name")
    for m in found:
        yield {
            "list": {"id": m.list_id, "name": m.list.name},
            "status": m.status,
            "created_at": m.created_at,
            "updated_at": m.updated_at,
        }


def consents(contact: Contact) -> Iterable[Row]:
    """What the contact agreed to: each list, the form and the text shown, where and when."""
    found = (
        Consent.objects.filter(contact=contact)
        .select_related("list", "form")
        .order_by("requested_at", "id")
    )
    for c in found:
        yield {
            "list": {"id": c.list_id, "name": c.list.name},
            "method": c.method,
            "form": {"id": c.form_id, "name": c.form.name} if c.form else None,
            "text": c.text,
            "client_address": c.client_address,
            "user_agent": c.user_agent,
            "requested_at": c.requested_at,
            "confirmed_at": c.confirmed_at,
        }


def left_behind(contact: Contact) -> Q:
    """Rows about the address that lost their contact (one deleted before, of any case):
    the same person's data, which an erasure removes too. No index serves it (a scan: these
    requests are rare), so callers ask it once, not per chunk."""
    return Q(contact=None, email__iexact=contact.email)


def deliveries(contact: Contact, *, chunk: int = DELIVERY_CHUNK) -> Iterable[Row]:
    """Every campaign message to the contact, oldest first, in keyset chunks along the
    contact's index; then those to its address that lost their contact."""
    yield from _deliveries(Delivery.objects.filter(contact=contact), chunk)
    yield from _deliveries(Delivery.objects.filter(left_behind(contact)), chunk)


def _deliveries(found, chunk: int) -> Iterable[Row]:
    found = found.order_by("pk")
    after = 0
    while True:
        rows = list(
            found.filter(pk__gt=after).values_list(
                "pk",
                "campaign_id",
                "campaign__name",
                "email",
                "status",
                "attempts",
                "sent_at",
                "opened_at",
                "clicked_at",
                "reason",
                "hard",
                "last_reply",
            )[:chunk]
        )
        for _pk, campaign_id, name, email, status, attempts, *rest in rows:
            sent_at, opened_at, clicked_at, reason, hard, last_reply = rest
            yield {
                "campaign": _campaign(campaign_id, name),
                "email": email,
                "status": status,
                "attempts": attempts,
                "sent_at": sent_at,
                "opened_at": opened_at,
                "clicked_at": clicked_at,
                "bounce_reason": reason,
                "hard_bounce": hard,
                "last_reply": last_reply,
            }
        if len(rows) < chunk:
            return
        after = rows[-1][0]


def _events(contact: Contact, kind: str):
    return (
        BounceEvent.objects.filter(Q(contact=contact) | left_behind(contact), kind=kind)
        .select_related("campaign")
        .only(
            "at",
            "source",
            "reason",
            "hard",
            "status",
            "code",
            "diagnostic",
            "feedback_type",
            "campaign__name",
        )
        .order_by("at", "pk")
    )


def bounces(contact: Contact) -> Iterable[Row]:
    """Every bounce reported about the contact's deliveries."""
    for e in _events(contact, BounceEvent.Kind.BOUNCE):
        yield {
            "at": e.at,
            "campaign": _campaign(e.campaign_id, e.campaign.name),
            "source": e.source,
            "reason": e.reason,
            "hard": e.hard,
            "status": e.status,
            "code": e.code,
            "diagnostic": e.diagnostic,
        }


def complaints(contact: Contact) -> Iterable[Row]:
    """Every spam complaint the contact made about a campaign."""
    for e in _events(contact, BounceEvent.Kind.COMPLAINT):
        yield {
            "at": e.at,
            "campaign": _campaign(e.campaign_id, e.campaign.name),
            "source": e.source,
            "feedback_type": e.feedback_type,
        }


def unsubscribes(contact: Contact) -> Iterable[Row]:
    """Each time the contact left through a campaign's unsubscribe link or address."""
    found = Unsubscribe.objects.filter(contact=contact).select_related("campaign")
    for u in found.order_by("created_at", "pk"):
        yield {
            "at": u.created_at,
            "campaign": _campaign(u.campaign_id, u.campaign.name),
            "method": u.method,
            "scope": u.scope,
        }


def transactional(contact: Contact) -> Iterable[Row]:
    """Transactional messages (POST /api/tx) to the contact or its address, in any case."""
    found = (
        TxMessage.objects.filter(Q(contact=contact) | Q(email__iexact=contact.email))
        .select_related("request")
        .only(
            "email",
            "name",
            "data",
            "status",
            "reason",
            "created_at",
            "sent_at",
            "request__template_name",
        )
        .order_by("pk")
    )
    for m in found:
        yield {
            "template": m.request.template_name,
            "email": m.email,
            "name": m.name,
            "data": m.data,
            "status": m.status,
            "reason": m.reason,
            "created_at": m.created_at,
            "sent_at": m.sent_at,
        }


def suppressions(contact: Contact) -> Iterable[Row]:
    """Suppressions of the contact's own address (domain-wide ones are not about them)."""
    # Suppressions hold the address's key (campaigns.emails.email_key), as the contact does.
    for s in Suppression.objects.filter(scope=Suppression.Scope.EMAIL, value=contact.email_key):
        yield {"reason": s.reason, "source": s.source, "created_at": s.created_at}


# The export's sections in document order; a new kind of data is one function added here.
SECTIONS: list[Section] = [
    Section("memberships", memberships),
    Section("consents", consents),
    Section("deliveries", deliveries),
    Section("bounces", bounces),
    Section("complaints", complaints),
    Section("unsubscribes", unsubscribes),
    Section("transactional", transactional),
    Section("suppressions", suppressions),
]


def _head(contact: Contact) -> Row:
    return {
        "format": FORMAT,
        "exported_at": timezone.now(),
        "contact": contact_fields(contact),
    }


def contact_data_export(contact: Contact) -> dict:
    """The whole export as a JSON-serializable dict (datetimes as ISO 8601 strings)."""
    document = {**_head(contact), **{s.name: list(s.rows(contact)) for s in SECTIONS}}
    return json.loads(json.dumps(document, cls=DjangoJSONEncoder))


def contact_data_export_chunks(contact: Contact) -> Iterator[str]:
    """The same document as JSON text, a row at a time (for a streamed download)."""
    encoder = DjangoJSONEncoder(ensure_ascii=False, indent=None)
    head = encoder.encode(_head(contact))
    yield head[:-1]  # without its closing brace: the sections follow
    for section in SECTIONS:
        yield f", {encoder.encode(section.name)}: ["
        for index, row in enumerate(section.rows(contact)):
            yield (", " if index else "") + encoder.encode(row)
        yield "]"
    yield "}\n"
