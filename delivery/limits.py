"""Sending limits of one site: connections, messages per connection, message rate.

Plain data, shared by `delivery.throttle` (which enforces them across workers) and
`delivery.presets` (which says what they are for each site).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0}
_UNITS |= {"h": 3600.0, "hour": 3600.0, "d": 86400.0, "day": 86400.0}
_UNIT_NAMES = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "day"}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True)
class Rate:
    """`messages` per `per` seconds, e.g. Rate(100, 60) is 100 messages a minute."""

    messages: float
    per: float = 1.0

    def __post_init__(self) -> None:
        if not self.messages > 0 or not self.per > 0:
            raise ValueError(f"A rate needs positive numbers, not {self.messages}/{self.per}s.")

    @classmethod
    def parse(cls, text: str) -> Rate:
        """Read "100/min", "10/s", "3600/hour" or "50000/day"."""
        match = _RATE.match(text.lower())
        if not match or match[2] not in _UNITS:
            raise ValueError(f"{text!r} is not a rate like '100/min', '10/s' or '3600/h'.")
        return cls(float(match[1]), _UNITS[match[2]])

    @property
    def interval(self) -> float:
        """Seconds between two messages at this rate."""
        return self.per / self.messages

    def slowed(self, level: int) -> Rate:
        """This rate halved `level` times."""
        return replace(self, messages=self.messages / 2**level)

    def __str__(self) -> str:
        unit = _UNIT_NAMES.get(self.per, f"{self.per:g}s")
        return f"{self.messages:g}/{unit}"


@dataclass(frozen=True)
class SiteLimits:
    """How hard one site may be pushed, summed over every worker on every host.

    `burst` is how many messages may leave back to back after a quiet spell; ask the rate
    limiter for at most that many at once. `rate=None` means no message rate limit (then only
    the connection limit paces the site, and a slow-down can only lower connections).
    """

    max_connections: int = 5
    messages_per_connection: int = 100
    rate: Rate | None = None
    burst: int = 10

    def __post_init__(self) -> None:
        for name in ("max_connections", "messages_per_connection", "burst"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}.")

    def slowed(self, level: int) -> SiteLimits:
        """These limits with connections (never below 1) and rate halved `level` times."""
        if level <= 0:
            return self
        return replace(
            self,
            max_connections=max(1, self.max_connections >> level),
            rate=self.rate.slowed(level) if self.rate else None,
        )
