"""Unsubscribe and view-online tokens are compact, URL-safe and cannot be forged or reused."""

import re

import pytest

from campaigns import links
from campaigns.links import LinkPurpose, LinkTarget
from delivery import verp

SECRET = "test-secret"
TARGET = LinkTarget(campaign_id=42, contact_id=1234567)


def test_token_names_its_campaign_and_contact():
    token = links.make_token(LinkPurpose.UNSUBSCRIBE, TARGET, SECRET)
    assert links.read_token(LinkPurpose.UNSUBSCRIBE, token, SECRET) == TARGET


def test_token_is_compact_and_url_safe():
    token = links.make_token(LinkPurpose.VIEW_ONLINE, TARGET, SECRET)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert len(token) <= 40


def test_unsubscribe_token_does_not_open_view_online():
    token = links.make_token(LinkPurpose.UNSUBSCRIBE, TARGET, SECRET)
    assert links.read_token(LinkPurpose.VIEW_ONLINE, token, SECRET) is None


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t.replace("42-", "43-", 1),
        lambda t: t.replace("-1234567-", "-1234568-"),
        lambda t: t.replace("42-", "042-", 1),
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[:-1],
        lambda t: t + "x",
        lambda t: "",
        lambda t: "../../etc/passwd",
    ],
)
def test_altered_token_is_refused(alter):
    token = links.make_token(LinkPurpose.UNSUBSCRIBE, TARGET, SECRET)
    assert links.read_token(LinkPurpose.UNSUBSCRIBE, alter(token), SECRET) is None


def test_token_signed_with_another_secret_is_refused():
    token = links.make_token(LinkPurpose.UNSUBSCRIBE, TARGET, "another-secret")
    assert links.read_token(LinkPurpose.UNSUBSCRIBE, token, SECRET) is None


def test_urls_are_under_the_public_url():
    url = links.unsubscribe_url("https://mail.example.com/", TARGET, SECRET)
    assert re.fullmatch(r"https://mail\.example\.com/u/[A-Za-z0-9_-]+/", url)
    view = links.view_online_url("https://mail.example.com", TARGET, SECRET)
    assert re.fullmatch(r"https://mail\.example\.com/v/[A-Za-z0-9_-]+/", view)
    token = view.rstrip("/").rsplit("/", 1)[1]
    assert links.read_token(LinkPurpose.VIEW_ONLINE, token, SECRET) == TARGET


def test_unsubscribe_address_survives_lowercasing_and_uppercasing():
    address = links.unsubscribe_address("bounces.example.com", TARGET, SECRET)
    assert address == address.lower()
    assert links.read_unsubscribe_address(address, SECRET) == TARGET
    assert links.read_unsubscribe_address(address.upper(), SECRET) == TARGET


@pytest.mark.parametrize(
    "alter",
    [
        lambda a: a.replace("u-42-", "u-41-"),
        lambda a: a.replace("-1234567-", "-7654321-"),
        lambda a: a.replace("@", "x@"),
        lambda a: "u-42-1234567@bounces.example.com",
    ],
)
def test_altered_unsubscribe_address_is_refused(alter):
    address = links.unsubscribe_address("bounces.example.com", TARGET, SECRET)
    assert links.read_unsubscribe_address(alter(address), SECRET) is None


def test_verp_address_is_not_an_unsubscribe_address():
    assert links.read_unsubscribe_address(verp.encode(42, "b.example.com", SECRET), SECRET) is None
