"""Compilers of segment conditions on engagement: opens, clicks and what a campaign reached.

Segments are the campaigns app's, but these read deliveries, so the delivery app registers
them in the campaigns compiler when it is ready (delivery/apps.py): the import goes from
delivery to campaigns, as every other one does.

"Received" is accepted by the receiving server: sent, or sent and complained about later.
Each condition is an EXISTS on the contact's deliveries (by its contact_id index, or by the
(campaign, contact) unique index for one campaign).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q

from campaigns.segments.compiler import Context, register
from campaigns.segments.definition import Condition, Field, Op
from delivery.models import Delivery

RECEIVED = (Delivery.Status.SENT, Delivery.Status.COMPLAINED)


def _deliveries(**lookups) -> Q:
    return Q(Exists(Delivery.objects.filter(contact=OuterRef("pk"), **lookups)))


@register(Field.OPENED, Field.CLICKED)
def engaged(condition: Condition, context: Context) -> Q:
    at = "opened_at" if condition.field is Field.OPENED else "clicked_at"
    if condition.op is Op.ANY:
        return _deliveries(**{f"{at}__isnull": False})
    if condition.op is Op.CAMPAIGN:
        return _deliveries(campaign_id=condition.value, **{f"{at}__isnull": False})
    received = _deliveries(status__in=RECEIVED)
    if condition.op is Op.NEVER:
        return received & ~_deliveries(**{f"{at}__isnull": False})
    since = context.now - dt.timedelta(days=condition.value)
    return received & ~_deliveries(**{f"{at}__gte": since})  # Op.NOT_IN_LAST_DAYS


@register(Field.RECEIVED)
def campaign_outcome(condition: Condition, context: Context) -> Q:
    of_campaign = {"campaign_id": condition.value}
    if condition.op is Op.FAILED:  # gave up: no route, or the retry window ended
        return _deliveries(status=Delivery.Status.FAILED, **of_campaign)
    received = {"status__in": RECEIVED, **of_campaign}
    if condition.op is Op.NOT_OPENED:
        return _deliveries(opened_at__isnull=True, **received)
    if condition.op is Op.NOT_CLICKED:
        return _deliveries(clicked_at__isnull=True, **received)
    return _deliveries(**received)  # Op.CAMPAIGN
