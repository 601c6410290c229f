"""Site limits as data: rates written the way operators write them, halving on slow-down."""

from __future__ import annotations

import pytest

from delivery.limits import Rate, SiteLimits


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("100/min", Rate(100, 60)),
        ("10/s", Rate(10, 1)),
        ("3600/hour", Rate(3600, 3600)),
        ("50000 / day", Rate(50000, 86400)),
        ("2.5/minutes", Rate(2.5, 60)),
        ("20/sec", Rate(20, 1)),
    ],
)
def test_rate_parses_operator_notation(text, rate):
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["", "100", "fast", "10/fortnight", "-5/min", "0/min"])
def test_rate_rejects_what_is_not_a_rate(text):
    with pytest.raises(ValueError):
        Rate.parse(text)


def test_rate_prints_as_it_is_written():
    assert [str(Rate.parse(text)) for text in ("100/min", "10/s", "3600/h")] == [
        "100/min",
        "10/s",
        "3600/h",
    ]


def test_rate_interval_is_the_time_between_two_messages():
    assert Rate(120, 60).interval == 0.5


def test_slowed_limits_halve_connections_and_rate_but_keep_one_connection():
    limits = SiteLimits(max_connections=5, messages_per_connection=100, rate=Rate(60, 60))
    assert limits.slowed(0) == limits
    assert limits.slowed(1) == SiteLimits(5 // 2, 100, Rate(30, 60), limits.burst)
    assert limits.slowed(4).max_connections == 1
    assert limits.slowed(4).rate == Rate(3.75, 60)


def test_slowed_limits_without_a_rate_stay_without_one():
    assert SiteLimits(max_connections=4, rate=None).slowed(1).rate is None


@pytest.mark.parametrize(
    "bad", [{"max_connections": 0}, {"messages_per_connection": -1}, {"burst": 1.5}]
)
def test_limits_refuse_nonsense(bad):
    with pytest.raises(ValueError):
        SiteLimits(**bad)
