"""Default limits, provider presets recognised by site name, and per-site overrides."""

from __future__ import annotations

import pytest

from delivery.limits import Rate
from delivery.presets import DEFAULT_LIMITS, PRESETS, limits_for, preset_for


@pytest.mark.parametrize(
    ("site", "provider"),
    [
        ("google.com", "Google"),
        ("googlemail.com", "Google"),
        ("outlook.com", "Microsoft"),
        ("hotmail.com", "Microsoft"),
        ("yahoodns.net", "Yahoo"),
        ("icloud.com", "Apple"),
        ("qq.com", "Tencent QQ Mail / Exmail"),
        ("netease.com", "NetEase (163.com, 126.com, yeah.net)"),
        ("163.com", "NetEase (163.com, 126.com, yeah.net)"),
        ("sina.com.cn", "Sina"),
        ("sina.net", "Sina"),
        ("sohu.com", "Sohu"),
        ("sohu.net", "Sohu"),
        ("aliyun.com", "Alibaba Mail (Aliyun)"),
        ("mxhichina.com", "Alibaba Mail (Aliyun)"),
    ],
)
def test_provider_is_recognised_by_the_site_of_its_mx_hosts(site, provider):
    assert preset_for(site).provider == provider
    assert limits_for(site) == preset_for(site).limits


def test_site_names_are_matched_case_and_trailing_dot_insensitively():
    assert preset_for("Google.COM.").provider == "Google"


def test_unknown_site_gets_the_defaults():
    assert preset_for("example.org") is None
    assert limits_for("example.org") == DEFAULT_LIMITS


def test_every_preset_is_conservative():
    for preset in PRESETS:
        limits = preset.limits
        assert 1 <= limits.max_connections <= 10, preset.provider
        assert limits.messages_per_connection <= 100, preset.provider
        assert limits.rate is None or limits.rate.messages / limits.rate.per <= 10, preset
        assert limits.max_connections <= DEFAULT_LIMITS.max_connections, preset.provider


def test_providers_that_block_before_warning_are_paced_from_the_start():
    paced = {preset.provider for preset in PRESETS if preset.limits.rate is not None}
    assert {"Yahoo", "Apple", "Tencent QQ Mail / Exmail"} <= paced
    assert any(provider.startswith("NetEase") for provider in paced)
    assert preset_for("google.com").limits.rate is None  # adaptive: Gmail says "slow down"


def test_no_site_belongs_to_two_providers():
    sites = [site for preset in PRESETS for site in preset.sites]
    assert len(sites) == len(set(sites))


def test_overrides_win_over_the_preset_field_by_field():
    limits = limits_for("qq.com", {"max_connections": 1, "rate": "30/min"})
    assert limits.max_connections == 1
    assert limits.rate == Rate(30, 60)
    assert limits.messages_per_connection == preset_for("qq.com").limits.messages_per_connection


def test_override_can_lift_the_rate_limit():
    assert limits_for("example.org", {"rate": None}).rate is None


@pytest.mark.parametrize("overrides", [{"max_conns": 3}, {"max_connections": 0}, {"rate": "lots"}])
def test_bad_override_is_refused_with_a_reason(overrides):
    with pytest.raises(ValueError):
        limits_for("example.org", overrides)
