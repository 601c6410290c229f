"""How large the values a template makes may grow, checked before they are made.

Copying a reference is free, so a template can build values far larger than its source:
`['x' * 100000] * 3000` is a list of 3,000 references to one string, cheap to make, and 300 MB
once joined or printed. So every operation that can amplify is checked against one limit (the
render's `max_output`, in characters), before it allocates where its result's size can be
known in advance (`x.center(10**9)`, `list * n`, `join`, `replace`, format widths), after it
otherwise. A value's size is about the length of its text (`size_of`), so a value within the
limit stays within it however it is printed, compared or walked.

Every function raises `RenderBudgetError` (Limit.SIZE) through `too_large`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from string import Formatter
from typing import Any

from jinja2.runtime import Undefined
from jinja2.utils import Namespace

from campaigns.render_budget import too_large

_SCALAR = (int, float, bool, type(None))
_SEQUENCES = (list, tuple, set, frozenset)
_VIEWS = (type({}.keys()), type({}.values()), type({}.items()))
_WALKED = (*_SEQUENCES, *_VIEWS)
_SCALARS = (*_SCALAR, Undefined)
_ITEM_OVERHEAD = 4  # quotes and ", " around an item in a container's text
_OTHER = 64  # objects whose text is short: macros, ranges, loops, generators, cyclers


def size_of(value: Any, limit: int) -> int:
    """About the length of `value` as text; stops counting once past `limit`."""
    if isinstance(value, str | bytes):
        return len(value)
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item) + _ITEM_OVERHEAD
        elif isinstance(item, _SCALARS):
            total += _ITEM_OVERHEAD + (item.bit_length() // 3 if type(item) is int else 20)
        elif isinstance(item, _WALKED):
            total += _ITEM_OVERHEAD
            stack.extend(item)
        elif isinstance(item, Mapping):
            total += _ITEM_OVERHEAD
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, Namespace):
            # Its text shows every attribute; Namespace hides them from getattr.
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        elif hasattr(item, "__slots__") and type(item).__module__ == "campaigns.sandbox":
            # TemplateContact and Attributes print their fields.
            stack.extend(getattr(item, name) for name in item.__slots__)
        else:
            total += _OTHER
        if total > limit:
            break
    return total


def check(value: Any, limit: int, what: str = "a value") -> Any:
    """`value`, or RenderBudgetError when it is larger than `limit`."""
    if size_of(value, limit) > limit:
        raise too_large(what, limit)
    return value


def check_text(value: Any, limit: int, what: str = "a text") -> Any:
    """`value`, checked when it is a string or a container (the cheap check after an operation)."""
    if isinstance(value, str):
        if len(value) > limit:
            raise too_large(what, limit)
    elif isinstance(value, (*_SEQUENCES, Mapping)):
        check(value, limit, what)
    return value


def repeat_check(sequence: Any, count: Any, limit: int) -> None:
    """Before `sequence * count`."""
    repeated = isinstance(count, int) and isinstance(sequence, str | bytes | list | tuple)
    if repeated and count > 0 and size_of(sequence, limit // count + 1) * count > limit:
        raise too_large("the repeated sequence", limit)


def sum_check(left: Any, right: Any, limit: int) -> None:
    """Before `left + right` of two strings or sequences."""
    joinable = isinstance(left, str | bytes | list | tuple) and type(left) is type(right)
    if joinable and size_of(left, limit) + size_of(right, limit) > limit:
        raise too_large("the joined value", limit)


def join_check(items: list[Any], separator: Any, limit: int) -> None:
    """Before joining `items` with `separator` (the join filter and `str.join`)."""
    total = len(str(separator)) * max(len(items) - 1, 0)
    for item in items:
        total += size_of(item, limit)
        if total > limit:
            raise too_large("the joined text", limit)


def replace_check(text: Any, old: Any, new: Any, count: Any, limit: int) -> None:
    """Before `text.replace(old, new, count)`."""
    text, old, new = str(text), str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    if len(text) + found * (len(new) - len(old)) > limit:
        raise too_large("the replaced text", limit)


def width_check(width: Any, limit: int) -> None:
    """Before padding to `width` (center, ljust, rjust, zfill)."""
    if isinstance(width, int) and width > limit:
        raise too_large("the padded text", limit)


def lines_check(text: Any, prefix_size: int, lines_per_char: float, limit: int) -> None:
    """Before adding `prefix_size` characters per line (indent, wordwrap)."""
    text = str(text)
    lines = text.count("\n") + 1 + int(len(text) * lines_per_char)
    if len(text) + lines * prefix_size > limit:
        raise too_large("the indented or wrapped text", limit)


# Widths and precisions in printf-style (`%10s`, `%.*f`) and str.format (`{:>10}`) formats.
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")


def percent_check(template: Any, arguments: Any, limit: int) -> None:
    """Before `template % arguments` (the operator and the format filter)."""
    if not isinstance(template, str):
        return
    starred = False
    for width, precision in _PERCENT_FIELD.findall(template):
        for number in (width, precision):
            starred |= number == "*"
            if number.isdigit() and int(number) > limit:
                raise too_large("the formatted text", limit)
    _arguments_check(arguments, starred, limit)


def format_check(template: str, args: tuple, kwargs: Mapping[str, Any], limit: int) -> None:
    """Before `template.format(*args, **kwargs)`."""
    nested = False
    try:
        fields = list(Formatter().parse(template))
    except ValueError:
        return  # str.format raises the same error itself
    for _literal, _name, spec, _conversion in fields:
        if spec:
            nested |= "{" in spec
            if any(int(number) > limit for number in _NUMBER.findall(spec)):
                raise too_large("the formatted text", limit)
    _arguments_check((*args, *kwargs.values()), nested, limit)


def _arguments_check(arguments: Any, widths_given: bool, limit: int) -> None:
    values = arguments if isinstance(arguments, tuple) else (arguments,)
    if widths_given and any(isinstance(v, int) and v > limit for v in values):
        raise too_large("the formatted text", limit)
    total = 0
    for value in values:
        total += size_of(value, limit)
        if total > limit:
            raise too_large("the formatted text", limit)


def tabs_check(text: str | bytes, tabsize: Any, limit: int) -> None:
    """Before `text.expandtabs(tabsize)`."""
    tab = b"\t" if isinstance(text, bytes) else "\t"
    if len(text) + text.count(tab) * _int(tabsize) > limit:
        raise too_large("the text with its tabs expanded", limit)


def batch_check(linecount: Any, fill_with: Any, limit: int) -> None:
    """Before `batch(linecount, fill_with)`, which pads its last batch with `fill_with`."""
    width_check(_int(linecount), limit)
    if fill_with is not None:
        repeat_check([fill_with], _int(linecount), limit)


def translate_check(text: str | bytes, table: Any, limit: int) -> None:
    """Before `text.translate(table)`, whose every character may become a string of `table`."""
    if isinstance(table, Mapping):
        longest = max((len(v) for v in table.values() if isinstance(v, str | bytes)), default=1)
        if len(text) * longest > limit:
            raise too_large("the translated text", limit)


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


# Checks run before a filter, by name: each gets the limit and the filter's own arguments.
FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": lambda limit, value, width=80: width_check(width, limit),
    "indent": lambda limit, value, width=4, *_, **__: lines_check(
        value, len(width) if isinstance(width, str) else _int(width), 0, limit
    ),
    "wordwrap": lambda limit, value, width=79, break_long_words=True, wrapstring=None, *_, **__: (
        lines_check(value, len(wrapstring or "\n"), 1 / max(_int(width), 1), limit)
    ),
    "replace": lambda limit, value, old, new, count=None: replace_check(
        value, old, new, count, limit
    ),
    "format": lambda limit, value, *args, **kwargs: percent_check(
        _text_of(value), kwargs or args, limit
    ),
    "batch": lambda limit, value, linecount, fill_with=None: batch_check(
        linecount, fill_with, limit
    ),
    "slice": lambda limit, value, slices, fill_with=None: width_check(_int(slices), limit),
}

# str and bytes methods that amplify, by name: the same, with the method's own object first.
METHOD_CHECKS: dict[str, Callable[..., None]] = {
    "center": lambda limit, text, width, *_: width_check(width, limit),
    "ljust": lambda limit, text, width, *_: width_check(width, limit),
    "rjust": lambda limit, text, width, *_: width_check(width, limit),
    "zfill": lambda limit, text, width: width_check(width, limit),
    "expandtabs": lambda limit, text, tabsize=8: tabs_check(text, tabsize, limit),
    "replace": lambda limit, text, old, new, count=-1: replace_check(text, old, new, count, limit),
    "translate": lambda limit, text, table: translate_check(text, table, limit),
}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
