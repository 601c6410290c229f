"""People are told from machines: privacy proxies open, scanners click."""

import datetime as dt

from delivery.engagement.classify import (
    BURST_SECONDS,
    SCANNER_SECONDS,
    Agent,
    Click,
    Network,
    Signals,
    Verdict,
    agent_class,
    burst_clicks,
    classify_click,
    classify_open,
    network_class,
)

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOOGLE_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)


def signals(agent=Agent.BROWSER, network=Network.OTHER, *, head=False, after=3600.0):
    return Signals(at=T0 + dt.timedelta(seconds=after), head=head, agent=agent, network=network)


def test_addresses_of_apples_proxies_are_recognised_v4_and_v6():
    assert network_class("17.58.100.1") is Network.APPLE
    assert network_class("2620:149:a44::10") is Network.APPLE
    assert network_class("203.0.113.9") is Network.OTHER
    assert network_class("not an address") is Network.OTHER


def test_user_agents_are_sorted_into_people_proxies_prefetchers_and_scanners():
    assert agent_class(CHROME) is Agent.BROWSER
    assert agent_class(GOOGLE_PROXY) is Agent.PERSON_PROXY
    assert agent_class("Mozilla/5.0") is Agent.GENERIC
    assert agent_class("") is Agent.GENERIC
    assert agent_class("Mozilla/5.0 (compatible; Proofpoint URL Defense)") is Agent.SCANNER
    assert agent_class("python-requests/2.32.3") is Agent.SCANNER


def test_an_open_from_apples_proxy_is_a_machine_open_whatever_its_agent():
    assert classify_open(signals(Agent.BROWSER, Network.APPLE)) is Verdict.MACHINE
    assert classify_open(signals(Agent.GENERIC, Network.APPLE)) is Verdict.MACHINE


def test_a_bare_mozilla_agent_is_a_prefetch_from_any_address():
    assert classify_open(signals(Agent.GENERIC)) is Verdict.MACHINE


def test_googles_image_proxy_is_a_person_opening():
    assert classify_open(signals(Agent.PERSON_PROXY)) is Verdict.HUMAN


def test_a_mail_client_fetching_the_pixel_is_a_person():
    assert classify_open(signals(Agent.BROWSER)) is Verdict.HUMAN


def test_head_requests_are_never_people():
    assert classify_open(signals(head=True)) is Verdict.MACHINE
    assert classify_click(signals(head=True), sent_at=T0, in_burst=False) is Verdict.BOT


def test_a_scanner_agent_clicking_is_a_bot():
    assert classify_click(signals(Agent.SCANNER), sent_at=T0, in_burst=False) is Verdict.BOT


def test_a_click_within_seconds_of_delivery_is_a_bot_and_later_a_person():
    soon = signals(after=SCANNER_SECONDS / 2)
    later = signals(after=SCANNER_SECONDS * 2)
    assert classify_click(soon, sent_at=T0, in_burst=False) is Verdict.BOT
    assert classify_click(later, sent_at=T0, in_burst=False) is Verdict.HUMAN


def test_different_links_of_a_message_hit_within_seconds_are_a_burst():
    step = dt.timedelta(seconds=BURST_SECONDS / 4)
    clicks = [Click(1, T0), Click(2, T0 + step), Click(3, T0 + 2 * step)]
    assert burst_clicks(clicks) == {0, 1, 2}


def test_one_link_clicked_twice_or_links_minutes_apart_are_no_burst():
    assert burst_clicks([Click(1, T0), Click(1, T0 + dt.timedelta(seconds=1))]) == set()
    apart = dt.timedelta(seconds=BURST_SECONDS * 20)
    assert burst_clicks([Click(1, T0), Click(2, T0 + apart)]) == set()
