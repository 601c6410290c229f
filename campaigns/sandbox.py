"""The Jinja2 sandbox that campaign templates run in, and the values they see.

Templates are written by users, so they run in Jinja's immutable sandbox: no attribute that
starts with an underscore, no mutation of lists or dicts, no unsafe callables. On top of it:

- reaching for an unsafe attribute raises at once (Jinja's default is an undefined value that
  only raises when printed, so `{% if ''.__class__ %}` would still run);
- `**` and `*` are checked before they run, so `10**10**10` or `'x' * 10**9` cannot hang or
  exhaust a worker (`range()` is already capped by the sandbox). Loops can still burn CPU
  (`range(100000)` nested twice): only a time limit around rendering bounds that;
- a missing variable or attribute renders empty (`contact.attributes.city` on a contact
  without a city) and `default()` replaces it; `None` renders empty too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import ChainableUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

# The largest integer (in bits) and the longest repeated sequence one operator may produce.
MAX_INT_BITS = 4096
MAX_REPEAT = 100_000


class Attributes:
    """A contact's custom attributes, read as `contact.attributes.<key>` or `[...]`.

    Neither a dict nor a Mapping on purpose: those would answer `contact.attributes.items`
    with their own method instead of the contact's attribute named "items".
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None):
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __repr__(self) -> str:
        return repr(self._values)


@dataclass(frozen=True, slots=True)
class TemplateContact:
    """What a template sees as `contact`."""

    email: str
    name: str = ""
    attributes: Attributes = field(default_factory=Attributes)

    def __post_init__(self):
        if not isinstance(self.attributes, Attributes):
            object.__setattr__(self, "attributes", Attributes(self.attributes))


@dataclass(frozen=True, slots=True)
class TemplateCampaign:
    """What a template sees as `campaign`."""

    name: str


# Names a template may use, each with the fields it has (None: a plain value).
VARIABLES: dict[str, frozenset[str] | None] = {
    "contact": frozenset({"email", "name", "attributes"}),
    "campaign": frozenset({"name"}),
    "unsubscribe_url": None,
    "view_online_url": None,
    "today": None,
}
_VIEW_TYPES = (TemplateContact, TemplateCampaign, Attributes)
_FIELDS = {TemplateContact: VARIABLES["contact"], TemplateCampaign: VARIABLES["campaign"]}
_MISSING = object()


class _Undefined(ChainableUndefined):
    """Missing values render empty, however deep the chain (`a.b.c`)."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def format_date(value: Any, format: str = "%Y-%m-%d") -> str:
    """Format a date, a datetime or an ISO 8601 string with strftime codes; other values as is."""
    if value is None or isinstance(value, _Undefined) or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value  # imported data is messy: show it rather than fail the message
    if isinstance(value, dt.date):
        return value.strftime(format)
    return str(value)


class CampaignSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, strict about escapes and lenient about missing values."""

    intercepted_binops = frozenset({"**", "*"})

    def __init__(self, *, autoescape: bool):
        super().__init__(
            autoescape=autoescape,
            undefined=_Undefined,
            finalize=_finalize,
            auto_reload=False,
        )
        # lipsum(10**6) builds megabytes of text; the other default globals are harmless.
        self.globals.pop("lipsum", None)
        self.filters["date"] = format_date

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The fast path for `contact.name` and `contact.attributes.city`, met many times per
        # message; everything else takes the sandbox's full checks.
        kind = type(obj)
        if kind is Attributes and not attribute.startswith("_"):
            value = obj._values.get(attribute, _MISSING)
            if value is not _MISSING:
                return value
        elif kind in _FIELDS and attribute in _FIELDS[kind]:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Our own value types hold plain data only; skipping the generic checks makes each
        # `contact.name` several times cheaper, which matters per recipient.
        if type(obj) in _VIEW_TYPES:
            return not attr.startswith("_")
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if isinstance(left, int) and isinstance(right, int):
            bits = left.bit_length() * right if operator_ == "**" else 0
            bits = max(bits, left.bit_length() + right.bit_length())
            if bits > MAX_INT_BITS:
                raise SecurityError("the number would be too large")
        elif operator_ == "*":
            for sequence, count in ((left, right), (right, left)):
                repeated = isinstance(sequence, str | list | tuple) and isinstance(count, int)
                if repeated and len(sequence) * count > MAX_REPEAT:
                    raise SecurityError("the repeated sequence would be too long")
        return self.binop_table[operator_](left, right)


def html_environment() -> CampaignSandbox:
    """The sandbox for HTML parts: every printed value is HTML-escaped."""
    return CampaignSandbox(autoescape=True)


def text_environment() -> CampaignSandbox:
    """The sandbox for subjects and plain-text parts: nothing is escaped."""
    return CampaignSandbox(autoescape=False)
