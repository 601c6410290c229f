"""The budget of one render: steps, wall time and the length of what it writes.

A template is user code run once per recipient, so every render gets a `Budget` from the
sandbox (campaigns/sandbox.py): each loop iteration, call, filter and intercepted operator
is a step, the clock is read every few steps, and the text a template writes (its output,
a macro's, a `{% set %}` block's) is counted as it grows. Running out raises
`RenderBudgetError`, which rendering reports as a TemplateRenderError with the part and line.

Plain Python: the limits come in as `RenderLimits`, built from the settings by the caller.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

# The clock costs more than a step: it is read once every this many steps (a power of two).
_CLOCK_EVERY = 16


class Limit(enum.StrEnum):
    STEPS = "steps"
    TIME = "time"
    OUTPUT = "output"  # the text written by the template, or by one macro or block of it
    SIZE = "size"  # one value the template makes: a string, a list, a dict


class RenderLimits(NamedTuple):
    """What one recipient's render may use (EDM_RENDER_MAX_STEPS, _TIME_LIMIT, _MAX_OUTPUT)."""

    max_steps: int = 100_000
    time_limit: float = 1.0  # seconds of wall time
    # Characters of one value or written text, and UTF-8 bytes of a rendered part.
    max_output: int = 2 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Any) -> RenderLimits:
        """The limits Django's settings (or any object with the same attributes) give."""
        return cls(
            max_steps=settings.EDM_RENDER_MAX_STEPS,
            time_limit=settings.EDM_RENDER_TIME_LIMIT,
            max_output=settings.EDM_RENDER_MAX_OUTPUT,
        )


DEFAULT_LIMITS = RenderLimits()


class RenderBudgetError(Exception):
    """A render ran out of one of its limits; `limit` says which."""

    def __init__(self, limit: Limit, message: str):
        self.limit = limit
        super().__init__(message)


def too_large(what: str, limit: int) -> RenderBudgetError:
    """The error for a value that would pass `limit` characters."""
    return RenderBudgetError(Limit.SIZE, f"{what} would be longer than the limit of {limit:,}")


class Budget:
    """Steps and time left to one render (shared by the subject, HTML and text of a message)."""

    __slots__ = ("_deadline", "_left", "limits")

    def __init__(self, limits: RenderLimits):
        self.limits = limits
        self._left = limits.max_steps
        self._deadline = time.monotonic() + limits.time_limit

    def tick(self) -> None:
        """Spend one step; raises RenderBudgetError when the steps or the time are used up."""
        self._left -= 1
        if not self._left & (_CLOCK_EVERY - 1):
            self._check()

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """The items of a loop, each one a step."""
        for item in iterable:
            self._left -= 1
            if not self._left & (_CLOCK_EVERY - 1):
                self._check()
            yield item

    def _check(self) -> None:
        if self._left < 0:
            raise RenderBudgetError(
                Limit.STEPS, f"the template ran past its budget of {self.limits.max_steps:,} steps"
            )
        if time.monotonic() > self._deadline:
            raise RenderBudgetError(
                Limit.TIME,
                f"the template ran past its time limit of {self.limits.time_limit:g} s",
            )


def joined(pieces: Iterable[str], limit: int) -> str:
    """The pieces of written text joined, stopped as soon as they pass `limit` characters."""
    parts: list[str] = []
    append, size = parts.append, 0  # the loop runs for every piece of every message
    for piece in pieces:
        size += len(piece)
        if size > limit:
            raise RenderBudgetError(
                Limit.OUTPUT, f"the template wrote more than the limit of {limit:,} characters"
            )
        append(piece)
    return "".join(parts)
