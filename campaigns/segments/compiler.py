"""A segment's definition compiled to one `Q` on Contact, from a registry of condition compilers.

Each field (condition kind) has one compiler, `(condition, context) -> Q`. The contact's own
fields are compiled in campaigns/segments/contact_conditions.py; engagement reads
deliveries, which belong to the delivery app, so delivery registers those compilers itself
when it is ready (delivery/segment_conditions.py): campaigns never imports delivery, and a
definition naming a field nobody registered fails loudly instead of matching everyone.

Every condition is a lookup or an EXISTS on the contact's row, so a segment filters any
Contact queryset — counts, the campaign audience, planning's INSERT … SELECT — in the same
single query, never a loop over contacts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_

from django.db.models import Q
from django.utils import timezone

from campaigns.segments.definition import Condition, Field, Group, Match


@dataclass(frozen=True)
class Context:
    """What conditions relative to "now" and to calendar days are computed from."""

    now: dt.datetime
    zone: dt.tzinfo

    def day_start(self, day: dt.date) -> dt.datetime:
        """The first instant of `day` in the zone dates are meant in."""
        return dt.datetime.combine(day, dt.time(), tzinfo=self.zone)


ConditionCompiler = Callable[[Condition, Context], Q]
_COMPILERS: dict[Field, ConditionCompiler] = {}


def register(*fields: Field) -> Callable[[ConditionCompiler], ConditionCompiler]:
    """Make the decorated function the compiler of conditions on `fields`."""

    def decorate(compile_condition: ConditionCompiler) -> ConditionCompiler:
        for field in fields:
            _COMPILERS[field] = compile_condition
        return compile_condition

    return decorate


def segment_q(group: Group, *, now: dt.datetime | None = None) -> Q:
    """The condition on Contact rows that the definition describes."""
    context = Context(now or timezone.now(), timezone.get_current_timezone())
    return _group(group, context)


def _group(group: Group, context: Context) -> Q:
    parts = [
        _group(node, context) if isinstance(node, Group) else _condition(node, context)
        for node in group.conditions
    ]
    if not parts:
        return Q()
    return reduce(and_ if group.match is Match.ALL else or_, parts)


def _condition(condition: Condition, context: Context) -> Q:
    try:
        compile_condition = _COMPILERS[condition.field]
    except KeyError:
        raise LookupError(f"no compiler is registered for {condition.field} conditions") from None
    return compile_condition(condition, context)
