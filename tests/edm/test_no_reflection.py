"""Nothing an anonymous request carries comes back as markup a browser would run.

A page on another site can make a logged-in user's browser send anything to any of our URLs
(a form posts text/plain, urlencoded or multipart; a link sets the path and query). If one
answer put that input into text/html unescaped, the script would run in the dashboard's
origin. These tests walk every URL pattern as such a request, with the webhooks configured so
that their error paths run too.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from campaigns.links import LinkPurpose, LinkTarget, make_token
from tests.delivery.test_webhooks import rsa_certificate
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

# No "/" in the one that goes into paths: it must stay one path segment.
IN_PATH = "<svg onload=alert(1)>"
SCRIPT = "<script>alert(document.cookie)</script>"
IN_INPUT = "\"'>" + SCRIPT  # breaks out of an attribute first
# What must never appear: the markup itself, whatever happened to the quotes before it.
MARKUP = (IN_PATH, SCRIPT)
FIELDS = ("next", "q", "search", "after", "email", "username", "password", "TopicArn", "token")
CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")


def routes(patterns=None, prefix: str = "") -> Iterator[str]:
    """A concrete path for every URL pattern: ids are 1, every other part is the payload."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, prefix + _fill(pattern.pattern))
        else:
            yield "/" + prefix + _fill(pattern.pattern)


def _fill(pattern) -> str:
    text = str(pattern)
    if isinstance(pattern, RoutePattern):
        return CONVERTER.sub(lambda m: "1" if m.group(1) == "int" else quote(IN_PATH), text)
    # A regex: its literal start, then the payload where the first group or class begins.
    literal = re.split(r"[(\[.*+?$\\]", text.removeprefix("^"), maxsplit=1)[0]
    return literal + quote(IN_PATH)


def requests(client: Client, path: str) -> Iterator[tuple[str, object]]:
    query = {name: IN_INPUT for name in FIELDS}
    sns_like = json.dumps({"Type": "Notification", "TopicArn": IN_INPUT, "Message": IN_INPUT})
    yield "GET", client.get(path, query)
    yield "POST form", client.post(path, query)
    yield "POST text/plain", client.post(path, sns_like, content_type="text/plain")
    yield "POST json", client.post(path, sns_like, content_type="application/json")


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


def reflected(response) -> bool:
    if not is_html(response):
        return False
    body = b"".join(response) if response.streaming else response.content
    return any(markup.encode() in body for markup in MARKUP)


@pytest.fixture
def webhooks_configured(settings, tmp_path):
    path = tmp_path / "sns.pem"
    path.write_bytes(
        rsa_certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    )
    settings.EDM_SES_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:edm-bounces"
    settings.EDM_SES_CERT_PATH = path
    der = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings.EDM_SENDGRID_WEBHOOK_KEY = base64.b64encode(der).decode()


@pytest.mark.parametrize("csrf_checks", [False, True], ids=["lax client", "browser-like"])
def test_no_anonymous_request_gets_its_input_back_in_html(webhooks_configured, csrf_checks):
    client = Client(enforce_csrf_checks=csrf_checks, raise_request_exception=False)
    paths = [*dict.fromkeys(routes()), "/" + quote(IN_PATH), "/static/" + quote(IN_PATH)]
    found, pages = [], 0
    for path in paths:
        for method, response in requests(client, path):
            pages += is_html(response)
            if reflected(response):
                found.append(f"{method} {path}: {response.status_code}")
    assert found == []
    assert len(paths) > 150 and pages > 100  # the walk reached the URLs, and read their pages


def test_the_public_pages_of_a_real_link_do_not_echo_their_input(settings):
    contact_list = make_list()
    campaign = make_campaign(lists=[contact_list])
    contact = make_contact("reader@a.example", contact_list=contact_list)
    target = LinkTarget(campaign.pk, contact.pk)
    unsubscribe = make_token(LinkPurpose.UNSUBSCRIBE, target, settings.SECRET_KEY)
    view_online = make_token(LinkPurpose.VIEW_ONLINE, target, settings.SECRET_KEY)
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    found = []
    for path in (f"/u/{unsubscribe}/", f"/u/{unsubscribe}/confirm/", f"/v/{view_online}/"):
        for method, response in requests(client, path):
            if reflected(response):
                found.append(f"{method} {path}: {response.status_code}")
    assert found == []


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"],
)
def test_logging_in_never_redirects_off_site(client, next_url):
    get_user_model().objects.create_user("ada", password="a long passphrase 1")
    response = client.post(
        f"/login/?next={quote(next_url)}",
        {"username": "ada", "password": "a long passphrase 1", "next": next_url},
    )
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc) == ("", "")
    assert location.path == "/"


def test_an_address_with_a_leading_double_slash_is_not_redirected_off_site(client):
    response = client.get("//evil.example/lists")
    assert not urlsplit(response.get("Location", "")).netloc
