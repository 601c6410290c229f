"""Compilers of conditions on the contact itself: attributes, status, lists, created, domain.

Registered when the campaigns app is ready (campaigns/apps.py).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q

from campaigns.models import Membership
from campaigns.segments.attributes import AttributeTest
from campaigns.segments.compiler import Context, register
from campaigns.segments.definition import Condition, Field, Op


@register(Field.ATTRIBUTE)
def attribute(condition: Condition, context: Context) -> Q:
    return Q(AttributeTest(condition.key, condition.op, condition.value))


@register(Field.STATUS)
def status(condition: Condition, context: Context) -> Q:
    same = Q(status=condition.value)
    return same if condition.op is Op.IS else ~same


@register(Field.LIST)
def list_membership(condition: Condition, context: Context) -> Q:
    on_list = Membership.objects.filter(contact=OuterRef("pk"), list_id=condition.value)
    if condition.op is Op.SUBSCRIBED_TO:
        return Q(Exists(on_list.filter(status=Membership.Status.SUBSCRIBED)))
    if condition.op is Op.MEMBER_OF:
        return Q(Exists(on_list))
    return ~Q(Exists(on_list))


@register(Field.CREATED)
def created(condition: Condition, context: Context) -> Q:
    """Days are calendar days in the current time zone; before/after leave the day out."""
    if condition.op is Op.BEFORE:
        return Q(created_at__lt=context.day_start(condition.value))
    if condition.op is Op.AFTER:
        return Q(created_at__gte=context.day_start(condition.value + dt.timedelta(days=1)))
    return Q(created_at__gte=context.now - dt.timedelta(days=condition.value))


@register(Field.DOMAIN)
def domain(condition: Condition, context: Context) -> Q:
    if condition.op is Op.EQUALS:
        return Q(domain=condition.value)
    return Q(domain__in=condition.value)
