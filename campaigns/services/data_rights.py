"""Data rights: a contact's data handed out (export) or removed (erase), each on the record.

Erasure decisions, table by table (docs/DEVELOPING.md "Data rights"):

- the contact row, its memberships and unsubscribes are deleted (memberships and
  unsubscribes go with the contact through Django's collector);
- deliveries stay, with the address and domain blanked and the address cut out of the last
  reply: dashboards read CampaignStats, SiteStats, MinuteStats and ReasonStats, which the
  rows' statuses add up to (docs/DELIVERY.md "Counters"), so the rows keep their status and
  the counters do not move. Deliveries that had not gone out are cancelled, as a cancelled
  campaign cancels them (queued/deferred → cancelled): nothing is ever sent to a blank
  address, and the audience still adds up;
- attempts and bounce events stay for the same reason, the address cut out of their texts;
- received messages about the contact (bounces, complaints, auto-replies and unsubscribe
  mail) lose their raw text and what the parser read of it (both quote headers, display
  names too), and the address in their result; the row stays, so the same message arriving
  again is still recognised by its SHA-256 and not acted on twice;
- transactional messages to the address (in any case) stay for the request's answer, with
  address, name and data blanked; those not sent yet fail;
- copies kept by capture mode (the Outbox) are deleted: they are whole messages;
- rejected import rows keep their row number, not the cell;
- every suppression of the address is replaced by one that holds only its keyed hash
  (campaigns/address_hash.py), which contact creation, imports and transactional mail check,
  so the person does not come back by a later import in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.address_hash import address_hash
from campaigns.models import Contact, DataRightsAction, ImportRejection, Suppression
from campaigns.selectors.data_rights import contact_data_export, left_behind
from delivery.models import (
    Attempt,
    BounceEvent,
    CapturedMessage,
    Delivery,
    InboundMessage,
    TxAttempt,
    TxMessage,
    TxRequest,
)
from delivery.planning import deliveries_cancel

ERASED = "[erased]"
CHUNK = 1000  # ids per statement: well under SQLite's limit of bound parameters
TX_PENDING = (
    TxMessage.Status.QUEUED,
    TxMessage.Status.SENDING,
    TxMessage.Status.DEFERRED,
)


class ContactErased(NamedTuple):
    """What an erasure changed, by table (rows, not addresses)."""

    contacts: int
    deliveries: int
    cancelled: int  # deliveries that had not gone out
    bounce_events: int
    inbound_messages: int
    tx_messages: int
    captured_messages: int
    import_rejections: int


def _actor(by, token) -> str:
    if token is not None:
        return f"{token.user.get_username()} (API token “{token.name}”)"
    return by.get_username() if by is not None else ""


def _record(kind: str, contact_id: int, by, token) -> DataRightsAction:
    return DataRightsAction.objects.create(
        kind=kind,
        contact_id=contact_id,
        by=by if by is not None else getattr(token, "user", None),
        token=token,
        actor=_actor(by, token)[:200],
    )


def contact_export(contact: Contact, *, by=None, token=None) -> DataRightsAction:
    """Record that the contact's data is being handed out (the caller streams
    `contact_data_export_chunks`); the record comes first, so no export goes unrecorded."""
    return _record(DataRightsAction.Kind.EXPORT, contact.pk, by, token)


def contact_export_data(contact: Contact, *, by=None, token=None) -> dict:
    """Record an export and return the data (campaigns.selectors.data_rights)."""
    contact_export(contact, by=by, token=token)
    return contact_data_export(contact)


def spellings(email: str) -> list[str]:
    """The ways a message can write this address: as stored, and with an IDN domain in its
    ASCII (IDNA) form, which is what SMTP replies and DSN headers use."""
    local, _, domain = email.rpartition("@")
    found = [email]
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_domain = domain
    if ascii_domain != domain:
        found.append(f"{local}@{ascii_domain}")
    return found


class _Scrubber:
    """Cuts every spelling of one address, in any case, out of texts and JSON values."""

    def __init__(self, forms: Sequence[str]):
        self.pattern = re.compile("|".join(re.escape(f) for f in forms), re.IGNORECASE)

    def text(self, value: str) -> str:
        return self.pattern.sub(ERASED, value)

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(item) for item in value]
        if isinstance(value, dict):
            return {self.text(k): self.json(v) for k, v in value.items()}
        return value


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _raw_holds(model, forms: Iterable[str]) -> Q:
    """Rows whose raw bytes hold one of the spellings (lower-cased, so any ASCII case)."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        # escape-encoding keeps printable ASCII as it is: an address in the raw text matches
        test = "strpos(lower(encode(raw, 'escape')), %s) > 0"
    else:
        test = "instr(lower(CAST(raw AS TEXT)), %s) > 0"
    forms = [f.lower() for f in forms]
    where = " OR ".join([test] * len(forms))
    sql = f"SELECT id FROM {table} WHERE raw IS NOT NULL AND ({where})"  # noqa: S608 (constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, forms)
        return Q(pk__in=[row[0] for row in cursor.fetchall()])


def _any_field_holds(fields: Iterable[str], forms: Iterable[str]) -> Q:
    found = Q()
    for field in fields:
        for form in forms:
            found |= Q(**{f"{field}__icontains": form})
    return found


def _rewrite(model, ids: Sequence[int], fields: Sequence[str], change) -> None:
    """Apply `change(row)` to each row, saving the fields it changed (bulk, per chunk)."""
    for chunk in _chunks(list(ids)):
        rows = list(model.objects.filter(pk__in=chunk).only("pk", *fields))
        changed = [row for row in rows if change(row)]
        model.objects.bulk_update(changed, fields, batch_size=500)


def _text_fields(scrub: _Scrubber, fields: Sequence[str]):
    def change(row) -> bool:
        before = [getattr(row, f) for f in fields]
        for f in fields:
            value = getattr(row, f)
            setattr(row, f, scrub.text(value) if isinstance(value, str) else scrub.json(value))
        return before != [getattr(row, f) for f in fields]

    return change


def contact_erase(contact: Contact, *, by=None, token=None) -> ContactErased:
    """Remove the contact's personal data everywhere and keep a hashed suppression of its
    address, in one transaction, recording who did it (see the module docstring)."""
    address = contact.email
    forms = spellings(address)
    scrub = _Scrubber(forms)
    with transaction.atomic():
        # Contacts are unique by address as written; the same address in another case is
        # the same person (providers ignore case), and goes too.
        people = list(
            Contact.objects.select_for_update()
            .filter(Q(pk=contact.pk) | Q(email__iexact=address))
            .values_list("pk", flat=True)
        )
        about = Q(contact_id__in=people) | left_behind(contact)
        deliveries, cancelled, events, inbound_ids = _campaign_rows_erase(about, scrub)
        inbound = _inbound_erase(inbound_ids, forms, scrub)
        tx = _tx_erase(Q(contact_id__in=people) | Q(email__iexact=address), scrub)
        captured, _ = CapturedMessage.objects.filter(
            _any_field_holds(["recipients", "to_header"], forms)
            | _raw_holds(CapturedMessage, forms)
        ).delete()
        rejected = ImportRejection.objects.filter(_any_field_holds(["value"], forms)).update(
            value=""
        )
        Suppression.objects.filter(scope=Suppression.Scope.EMAIL, value__iexact=address).delete()
        Suppression.objects.get_or_create(
            value=address_hash(address),
            defaults={
                "scope": Suppression.Scope.HASH,
                "reason": Suppression.Reason.ERASED,
                "source": f"erased by {_actor(by, token)}"[:200],
                "created_by": by,
            },
        )
        Contact.objects.filter(pk__in=people).delete()  # memberships, unsubscribes with them
        for pk in people:
            _record(DataRightsAction.Kind.ERASE, pk, by, token)
    return ContactErased(
        contacts=len(people),
        deliveries=deliveries,
        cancelled=cancelled,
        bounce_events=events,
        inbound_messages=inbound,
        tx_messages=tx,
        captured_messages=captured,
        import_rejections=rejected,
    )


def _campaign_rows_erase(about: Q, scrub: _Scrubber) -> tuple[int, int, int, set[int]]:
    """Deliveries, their attempts and bounce events: kept for the counters, the address cut
    out; (deliveries, cancelled, events, ids of the received messages the events came in)."""
    delivery_ids = list(Delivery.objects.filter(about).values_list("pk", flat=True))
    cancelled = sum(deliveries_cancel(chunk) for chunk in _chunks(delivery_ids))
    attempt_ids = _ids(Attempt, "delivery_id", delivery_ids)
    _rewrite(Attempt, attempt_ids, ["text"], _text_fields(scrub, ["text"]))
    _rewrite(Delivery, delivery_ids, ["last_reply"], _text_fields(scrub, ["last_reply"]))
    now = timezone.now()
    _update(Delivery, delivery_ids, email="", domain="", contact=None, updated_at=now)

    events = BounceEvent.objects.filter(about)  # copies of their deliveries' contact and email
    event_ids = list(events.values_list("pk", flat=True))
    inbound_ids = set(events.exclude(inbound=None).values_list("inbound_id", flat=True))
    _rewrite(BounceEvent, event_ids, ["diagnostic"], _text_fields(scrub, ["diagnostic"]))
    _update(BounceEvent, event_ids, email="", contact=None)
    return len(delivery_ids), cancelled, len(event_ids), inbound_ids


def _inbound_erase(inbound_ids: set[int], forms: Sequence[str], scrub: _Scrubber) -> int:
    """Received messages about the person: the events' own, and any quoting the address."""
    quoting = InboundMessage.objects.filter(
        _any_field_holds(["mail_from", "result", "parsed"], forms)
        | _raw_holds(InboundMessage, forms)
    )
    ids = sorted(inbound_ids | set(quoting.values_list("pk", flat=True)))
    fields = ["mail_from", "result", "error"]
    _rewrite(InboundMessage, ids, fields, _text_fields(scrub, fields))
    # What the parser read quotes headers (display names too), not only the address: it
    # goes with the raw text. The bounce events keep reason and status.
    _update(InboundMessage, ids, raw=None, parsed=None)
    return len(ids)


def _tx_erase(about: Q, scrub: _Scrubber) -> int:
    """Transactional messages to the person: kept for their request's answer, blanked; those
    not sent yet fail."""
    found = TxMessage.objects.filter(about)
    ids = list(found.values_list("pk", flat=True))
    request_ids = list(set(found.values_list("request_id", flat=True)))
    for chunk in _chunks(ids):
        TxMessage.objects.filter(pk__in=chunk, status__in=TX_PENDING).update(
            status=TxMessage.Status.FAILED, reason="erased at the person's request"
        )
    _rewrite(TxMessage, ids, ["last_reply"], _text_fields(scrub, ["last_reply"]))
    blank = {"email": "", "domain": "", "name": "", "data": {}, "contact": None}
    _update(TxMessage, ids, **blank, updated_at=timezone.now())
    attempt_ids = _ids(TxAttempt, "message_id", ids)
    _rewrite(TxAttempt, attempt_ids, ["text"], _text_fields(scrub, ["text"]))
    fields = ["response", "headers"]
    _rewrite(TxRequest, request_ids, fields, _text_fields(scrub, fields))
    return len(ids)


def _update(model, ids: Sequence[int], **values) -> None:
    for chunk in _chunks(list(ids)):
        model.objects.filter(pk__in=chunk).update(**values)


def _ids(model, key: str, parents: Sequence[int]) -> list[int]:
    found: list[int] = []
    for chunk in _chunks(parents):
        found += model.objects.filter(**{f"{key}__in": chunk}).values_list("pk", flat=True)
    return found
