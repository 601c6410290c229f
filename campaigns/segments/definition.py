"""A segment's definition: a JSON tree of conditions, parsed strictly into typed values.

    {"match": "all",                       # or "any"
     "conditions": [
        {"field": "attribute", "key": "city", "op": "equals", "value": "Berlin"},
        {"field": "list", "op": "subscribed_to", "value": 3},
        {"match": "any", "conditions": [   # a nested group
            {"field": "opened", "op": "not_in_last_days", "value": 90},
            {"field": "opened", "op": "never"}]}]}

`OPERATORS` says which operators each field takes and what value each needs. Parsing is pure
(no database): whether a list or campaign named by id exists is the saving service's check,
and a condition on one that is gone since simply matches nobody. An empty group matches
every contact; nested groups must not be empty (an empty "any" reads as "nobody" to some
and "everybody" to others).

Engagement (`opened`, `clicked`, `received`) reads deliveries: "received" means the
receiving server accepted the message (sent, or complained about later). "Never opened" and
"not opened in the last N days" match only contacts who received something: a contact never
mailed has shown no disinterest, and sunsetting rules are meant for the disengaged.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from campaigns.emails import InvalidEmailError, normalize_domain
from campaigns.models import Contact

MAX_DEPTH = 4  # the top group is depth 1
MAX_CONDITIONS = 100  # conditions and groups, in the whole tree
MAX_TEXT = 500
MAX_CHOICES = 100
MAX_KEY = 100  # as the API's attribute names
MAX_DAYS = 36_500
MAX_ID = 2**63 - 1
_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
EVERYONE = {"match": "all", "conditions": []}  # read only: a starting point for editors


class Match(StrEnum):
    ALL = "all"
    ANY = "any"


class Field(StrEnum):
    """What a condition looks at (its kind)."""

    ATTRIBUTE = "attribute"
    STATUS = "status"
    LIST = "list"
    CREATED = "created"
    DOMAIN = "domain"
    OPENED = "opened"
    CLICKED = "clicked"
    RECEIVED = "received"


class Op(StrEnum):
    EQUALS = "equals"
    CONTAINS = "contains"
    ONE_OF = "one_of"
    BETWEEN = "between"
    BEFORE = "before"
    AFTER = "after"
    IS_SET = "is_set"
    IS_NOT_SET = "is_not_set"
    IS = "is"
    IS_NOT = "is_not"
    MEMBER_OF = "member_of"
    SUBSCRIBED_TO = "subscribed_to"
    NOT_MEMBER_OF = "not_member_of"
    WITHIN_DAYS = "within_days"
    ANY = "any"
    CAMPAIGN = "campaign"
    NOT_IN_LAST_DAYS = "not_in_last_days"
    NEVER = "never"
    NOT_OPENED = "not_opened"
    NOT_CLICKED = "not_clicked"
    FAILED = "failed"


class Value(StrEnum):
    """The kind of value an operator takes."""

    NONE = "none"
    TEXT = "text"
    TEXTS = "texts"  # a list of texts
    RANGE = "range"  # {"min": number, "max": number}, either may be left out
    DATE = "date"  # "YYYY-MM-DD"
    DAYS = "days"
    STATUS = "status"
    LIST = "list"  # a list's id
    CAMPAIGN = "campaign"  # a campaign's id
    DOMAIN = "domain"
    DOMAINS = "domains"


OPERATORS: dict[Field, dict[Op, Value]] = {
    Field.ATTRIBUTE: {
        Op.EQUALS: Value.TEXT,
        Op.CONTAINS: Value.TEXT,
        Op.ONE_OF: Value.TEXTS,
        Op.BETWEEN: Value.RANGE,
        Op.BEFORE: Value.DATE,
        Op.AFTER: Value.DATE,
        Op.IS_SET: Value.NONE,
        Op.IS_NOT_SET: Value.NONE,
    },
    Field.STATUS: {Op.IS: Value.STATUS, Op.IS_NOT: Value.STATUS},
    Field.LIST: {
        Op.MEMBER_OF: Value.LIST,
        Op.SUBSCRIBED_TO: Value.LIST,
        Op.NOT_MEMBER_OF: Value.LIST,
    },
    Field.CREATED: {Op.BEFORE: Value.DATE, Op.AFTER: Value.DATE, Op.WITHIN_DAYS: Value.DAYS},
    Field.DOMAIN: {Op.EQUALS: Value.DOMAIN, Op.ONE_OF: Value.DOMAINS},
    Field.OPENED: {
        Op.ANY: Value.NONE,
        Op.CAMPAIGN: Value.CAMPAIGN,
        Op.NOT_IN_LAST_DAYS: Value.DAYS,
        Op.NEVER: Value.NONE,
    },
    Field.CLICKED: {Op.ANY: Value.NONE, Op.CAMPAIGN: Value.CAMPAIGN},
    Field.RECEIVED: {
        Op.CAMPAIGN: Value.CAMPAIGN,
        Op.NOT_OPENED: Value.CAMPAIGN,
        Op.NOT_CLICKED: Value.CAMPAIGN,
        Op.FAILED: Value.CAMPAIGN,
    },
}


@dataclass(frozen=True)
class NumberRange:
    """Inclusive bounds; None is unbounded on that side (never both)."""

    low: float | None
    high: float | None


@dataclass(frozen=True)
class Condition:
    field: Field
    op: Op
    value: Any = None  # typed as OPERATORS says: str, tuple[str, ...], NumberRange, date, int
    key: str | None = None  # the attribute's name, for Field.ATTRIBUTE only


@dataclass(frozen=True)
class Group:
    match: Match
    conditions: tuple[Condition | Group, ...]


class SegmentInvalidError(ValueError):
    """The definition is not valid; `problems` maps paths (`conditions[2].value`) to messages."""

    def __init__(self, problems: dict[str, list[str]]):
        self.problems = problems
        super().__init__(
            "; ".join(f"{path}: {m}" for path, found in problems.items() for m in found)
        )


def parse(data: Any, *, within: str = "") -> Group:
    """The typed tree of a definition; SegmentInvalidError lists every problem by path
    (prefixed with `within`, the name of the field that holds the definition, if any)."""
    parser = _Parser()
    group = parser.group(data, within, depth=1)
    if parser.problems:
        raise SegmentInvalidError(parser.problems)
    return group


def to_json(group: Group) -> dict:
    """The definition as stored and answered: `parse(to_json(g)) == g`."""
    return {"match": str(group.match), "conditions": [_node_json(n) for n in group.conditions]}


def _node_json(node: Condition | Group) -> dict:
    if isinstance(node, Group):
        return to_json(node)
    out: dict[str, Any] = {"field": str(node.field)}
    if node.key is not None:
        out["key"] = node.key
    out["op"] = str(node.op)
    value = node.value
    if isinstance(value, NumberRange):
        out["value"] = {
            name: bound
            for name, bound in (("min", value.low), ("max", value.high))
            if bound is not None
        }
    elif isinstance(value, dt.date):
        out["value"] = value.isoformat()
    elif isinstance(value, tuple):
        out["value"] = list(value)
    elif value is not None:
        out["value"] = value
    return out


def _path(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


class _Parser:
    def __init__(self):
        self.problems: dict[str, list[str]] = {}
        self.count = 0

    def fail(self, path: str, message: str) -> None:
        self.problems.setdefault(path or "definition", []).append(message)

    def group(self, data: Any, path: str, *, depth: int) -> Group:
        if not isinstance(data, dict):
            self.fail(path, "must be an object with “match” and “conditions”")
            return Group(Match.ALL, ())
        unknown = set(data) - {"match", "conditions"}
        if unknown:
            self.fail(path, f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
        match = data.get("match", Match.ALL.value)
        if match not in Match._value2member_map_:
            self.fail(_path(path, "match"), "must be “all” or “any”")
            match = Match.ALL
        items = data.get("conditions", [])
        if not isinstance(items, list):
            self.fail(_path(path, "conditions"), "must be a list")
            items = []
        if not items and depth > 1:
            self.fail(_path(path, "conditions"), "a nested group needs at least one condition")
        nodes = []
        for index, item in enumerate(items):
            item_path = _path(path, f"conditions[{index}]")
            self.count += 1
            if self.count > MAX_CONDITIONS:
                self.fail(item_path, f"a segment has at most {MAX_CONDITIONS} conditions")
                break
            if isinstance(item, dict) and "conditions" in item:
                if depth >= MAX_DEPTH:
                    self.fail(item_path, f"groups nest at most {MAX_DEPTH} deep")
                    continue
                nodes.append(self.group(item, item_path, depth=depth + 1))
            else:
                condition = self.condition(item, item_path)
                if condition is not None:
                    nodes.append(condition)
        return Group(Match(match), tuple(nodes))

    def condition(self, data: Any, path: str) -> Condition | None:
        if not isinstance(data, dict):
            self.fail(path, "must be a condition (an object with “field” and “op”) or a group")
            return None
        unknown = set(data) - {"field", "key", "op", "value"}
        if unknown:
            self.fail(path, f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
        field = data.get("field")
        if field not in Field._value2member_map_:
            self.fail(_path(path, "field"), f"must be one of {', '.join(Field)}")
            return None
        field = Field(field)
        operators = OPERATORS[field]
        op = data.get("op")
        if op not in operators:
            self.fail(_path(path, "op"), f"for {field} must be one of {', '.join(operators)}")
            return None
        op = Op(op)
        key = None
        if field is Field.ATTRIBUTE:
            key = data.get("key")
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
                self.fail(
                    _path(path, "key"), f"must be an attribute name of 1 to {MAX_KEY} characters"
                )
                return None
        elif "key" in data:
            self.fail(_path(path, "key"), "only attribute conditions have a key")
        kind = operators[op]
        value_path = _path(path, "value")
        if kind is Value.NONE:
            if data.get("value") is not None:
                self.fail(value_path, f"{op} takes no value")
            return Condition(field, op, None, key)
        if "value" not in data:
            self.fail(value_path, "is missing")
            return None
        try:
            value = _VALUES[kind](data["value"])
        except ValueError as exc:
            self.fail(value_path, str(exc))
            return None
        return Condition(field, op, value, key)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT:
        raise ValueError(f"must be a text of 1 to {MAX_TEXT} characters")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CHOICES:
        raise ValueError(f"must be a list of 1 to {MAX_CHOICES} texts")
    return tuple(_text(item) for item in value)


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    # bool is an int to Python, not a number to anyone writing a range.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"“{name}” must be a finite number")
    if abs(value) > 1e300:
        raise ValueError(f"“{name}” is out of range")
    return float(value)


def _range(value: Any) -> NumberRange:
    if not isinstance(value, dict) or set(value) - {"min", "max"}:
        raise ValueError("must be an object with “min” and/or “max”")
    low, high = _number(value.get("min"), "min"), _number(value.get("max"), "max")
    if low is None and high is None:
        raise ValueError("needs “min”, “max” or both")
    if low is not None and high is not None and low > high:
        raise ValueError("“min” is greater than “max”")
    return NumberRange(low, high)


def _date(value: Any) -> dt.date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a date") from None


def _whole(value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"must be {what} from {low} to {high}")
    return value


def _days(value: Any) -> int:
    return _whole(value, 1, MAX_DAYS, "a number of days")


def _id(value: Any) -> int:
    return _whole(value, 1, MAX_ID, "an id")


def _status(value: Any) -> str:
    if value not in Contact.Status.values:
        raise ValueError(f"must be one of {', '.join(Contact.Status.values)}")
    return value


def _domain(value: Any) -> str:
    try:
        return normalize_domain(_text(value))
    except InvalidEmailError:
        raise ValueError(f"{value} is not a domain name") from None


def _domains(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CHOICES:
        raise ValueError(f"must be a list of 1 to {MAX_CHOICES} domain names")
    return tuple(_domain(item) for item in value)


_VALUES = {
    Value.TEXT: _text,
    Value.TEXTS: _texts,
    Value.RANGE: _range,
    Value.DATE: _date,
    Value.DAYS: _days,
    Value.STATUS: _status,
    Value.LIST: _id,
    Value.CAMPAIGN: _id,
    Value.DOMAIN: _domain,
    Value.DOMAINS: _domains,
}
