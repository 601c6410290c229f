"""Reading JSON from untrusted input without letting its nesting crash the reader.

`json.loads` recurses once per nested array or object, so 100,000 `[` exhaust Python's stack
and raise RecursionError (a 500 unless caught), and so would any code that walks a deep
result. `json_read` refuses a document nested deeper than its limit; the depth is measured
after parsing, without recursion, so the limit holds whatever the caller's stack depth.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # levels of arrays and objects; webhook bodies nest 3 or 4


class JsonTooDeepError(ValueError):
    """The document nests arrays and objects deeper than allowed."""

    def __init__(self, max_depth: int):
        super().__init__(f"the JSON nests deeper than {max_depth} levels")
        self.max_depth = max_depth


def json_read(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads that raises JsonTooDeepError (a ValueError) beyond `max_depth` levels."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JsonTooDeepError(max_depth) from None
    if json_depth(value, stop_after=max_depth) > max_depth:
        raise JsonTooDeepError(max_depth)
    return value


def json_depth(value: Any, *, stop_after: int | None = None) -> int:
    """How deeply arrays and objects nest in a parsed value (a scalar is 0, `[]` is 1);
    counting stops once it passes `stop_after`."""
    deepest = 0
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if stop_after is not None and deepest > stop_after:
            break
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest
