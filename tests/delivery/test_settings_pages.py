"""The Settings pages: sender domains, their DKIM keys and records, DNS checks in a worker."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from cryptography.hazmat.primitives import serialization
from django.urls import reverse

from delivery import dkim
from delivery.models import SenderDomain
from delivery.services.sender_domains import (
    dkim_selector,
    sender_domain_add,
    sender_domain_check,
    sender_domain_rotate,
)
from tests.factories import make_campaign, make_list

pytestmark = pytest.mark.django_db


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def add(client, domain: str):
    return client.post(reverse("delivery:settings_domain_add"), {"domain": domain})


def test_adding_a_domain_makes_a_2048_bit_key_and_shows_the_txt_record_to_publish(
    admin_client, redis_db
):
    response = add(admin_client, " News.Shop.example ")

    sender = SenderDomain.objects.get()
    assert response.url == reverse("delivery:settings_domain", args=[sender.pk])
    assert sender.domain == "news.shop.example"
    assert re.fullmatch(r"edm\d{6}", sender.selector)
    key = serialization.load_pem_private_key(sender.private_key_pem.encode(), password=None)
    assert key.key_size == 2048
    record = dkim.dns_record(sender.private_key_pem, domain=sender.domain, selector=sender.selector)
    html = page(admin_client, response.url)
    assert f"{sender.selector}._domainkey.news.shop.example" in html
    assert record.value in html
    assert len(record.strings) == 2
    assert record.zone_text.replace('"', "&quot;") in html
    assert html.count('data-copy="') >= 3  # name, value, quoted strings


def test_domains_that_cannot_send_mail_are_refused_with_the_reason(admin_client, redis_db):
    for text, reason in [
        ("not a domain!", "is not a valid domain name"),
        ("news@shop.example", "not an address"),
        ("localhost", "is not a domain mail can be sent from"),
        ("", "This field is required"),
    ]:
        html = add(admin_client, text).content.decode()
        assert reason in html.replace("&#x27;", "'"), text
    assert not SenderDomain.objects.exists()


def test_a_domain_is_added_once(admin_client, redis_db):
    add(admin_client, "shop.example")

    html = add(admin_client, "SHOP.example.").content.decode()

    assert "shop.example already has a DKIM key" in html
    assert SenderDomain.objects.count() == 1


def test_campaign_domains_without_a_key_are_listed_until_one_is_added(admin_client, redis_db):
    customers = make_list()
    make_campaign(lists=[customers], from_email="news@Shop.example")
    make_campaign(lists=[customers], from_email="sale@shop.example", status="sending")
    make_campaign(lists=[customers], from_email="old@other.example", status="finished")

    html = page(admin_client, reverse("settings"))
    section = html[html.index("without a DKIM key") :]
    rows = {
        domain: (campaigns, unsent)
        for domain, campaigns, unsent in re.findall(
            r"<td>([\w.]+)</td>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>",
            section,
        )
    }
    assert rows == {"shop.example": ("2", "2"), "other.example": ("1", "0")}

    add(admin_client, "shop.example")

    html = page(admin_client, reverse("settings"))
    section = html[html.index("without a DKIM key") :]
    assert "shop.example" not in section
    assert "other.example" in section


def test_rotating_asks_first_then_replaces_key_and_selector(admin_client, redis_db):
    sender = sender_domain_add("shop.example")
    SenderDomain.objects.filter(pk=sender.pk).update(
        check_result={"selector": sender.selector, "findings": []},
        checked_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )
    url = reverse("delivery:settings_domain_rotate", args=[sender.pk])

    assert "Publish its TXT record straight away" in page(admin_client, url)
    assert SenderDomain.objects.get().selector == sender.selector

    admin_client.post(url)

    rotated = SenderDomain.objects.get()
    assert rotated.selector == f"{sender.selector}-2"
    assert rotated.private_key_pem != sender.private_key_pem
    assert (rotated.check_result, rotated.checked_at) == ({}, None)
    html = page(admin_client, reverse("delivery:settings_domain", args=[sender.pk]))
    assert f"{rotated.selector}._domainkey.shop.example" in html
    assert "Not checked yet" in html


def test_selectors_are_never_reused_within_a_month_or_across_months():
    january = dt.datetime(2025, 1, 31, tzinfo=dt.UTC)
    assert dkim_selector(january) == "edm202501"
    assert dkim_selector(january, previous="edm202501") == "edm202501-2"
    assert dkim_selector(january, previous="edm202501-2") == "edm202501-3"
    assert dkim_selector(january, previous="edm202412-4") == "edm202501"


def test_deleting_asks_first_then_forgets_the_domain(admin_client, redis_db):
    sender = sender_domain_add("shop.example")
    url = reverse("delivery:settings_domain_delete", args=[sender.pk])

    assert "go out <strong>unsigned</strong>" in page(admin_client, url)
    assert SenderDomain.objects.exists()

    response = admin_client.post(url)

    assert response.url == reverse("settings")
    assert not SenderDomain.objects.exists()
    assert "unsigned" in page(admin_client, reverse("settings"))


def test_the_private_key_is_never_on_any_page(admin_client, redis_db):
    make_campaign(lists=[make_list()], from_email="news@shop.example")
    sender = sender_domain_add("shop.example")
    SenderDomain.objects.filter(pk=sender.pk).update(
        check_result={
            "selector": sender.selector,
            "findings": [
                {
                    "record": "DKIM",
                    "status": "missing",
                    "name": f"{sender.selector}._domainkey.shop.example",
                    "found": [],
                    "problem": "No DKIM key is published.",
                    "publish": "v=DKIM1; k=rsa; p=…",
                }
            ],
        }
    )
    key_lines = [line for line in sender.private_key_pem.splitlines() if "-----" not in line]
    urls = [
        reverse("settings"),
        reverse("delivery:settings_domain", args=[sender.pk]),
        reverse("delivery:settings_domain_rotate", args=[sender.pk]),
        reverse("delivery:settings_domain_delete", args=[sender.pk]),
    ]
    for url in urls:
        html = page(admin_client, url)
        assert "PRIVATE KEY" not in html, url
        assert not any(line in html for line in key_lines), url


@pytest.fixture
def dns_for_workers(dns_server, settings, monkeypatch):
    """The loopback nameserver, for this process and the worker processes it starts."""
    monkeypatch.setenv("EDM_DNS_NAMESERVERS", "{}:{}".format(*dns_server.address))
    settings.EDM_DNS_NAMESERVERS = [dns_server.address]
    return dns_server


def published(sender: SenderDomain) -> str:
    record = dkim.dns_record(sender.private_key_pem, domain=sender.domain, selector=sender.selector)
    return f"{record.name}.  TXT  {record.zone_text}"


@pytest.mark.django_db(transaction=True)
def test_dns_check_runs_in_a_worker_and_shows_each_record(admin_client, dns_for_workers, rq_burst):
    sender = sender_domain_add("shop.example")
    dns_for_workers.load(f"""
        shop.example.  TXT  "v=spf1 include:_spf.mailer.example ~all"
        {published(sender)}
    """)
    detail = reverse("delivery:settings_domain", args=[sender.pk])

    admin_client.post(reverse("delivery:settings_domain_check", args=[sender.pk]))

    assert "Checking DNS…" in page(admin_client, detail)
    assert "checking…" in page(admin_client, reverse("settings"))
    assert SenderDomain.objects.get().checked_at is None  # not in the request

    rq_burst("default")

    sender.refresh_from_db()
    assert sender.checked_at is not None
    statuses = {f["record"]: f["status"] for f in sender.check_result["findings"]}
    assert statuses == {"SPF": "ok", "DKIM": "ok", "DMARC": "missing"}
    assert sender.check_result["selector"] == sender.selector
    html = page(admin_client, detail)
    assert "Checking DNS…" not in html
    rows = dict(re.findall(r'data-record="(\w+)">.*?badge-(\w+)', html, re.S))
    assert rows == {"SPF": "ok", "DKIM": "ok", "DMARC": "missing"}
    assert "v=DMARC1; p=none" in html
    assert "_dmarc.shop.example" in html
    assert "_dmarc.shop.example" in {query.name for query in dns_for_workers.queries}


@pytest.mark.django_db(transaction=True)
def test_dns_check_says_what_is_wrong_and_what_to_publish_instead(
    admin_client, dns_for_workers, rq_burst
):
    shop = sender_domain_add("shop.example")
    other = sender_domain_add("mail.example")
    other_key = published(other).split("TXT", 1)[1]
    dns_for_workers.load(f"""
        {shop.selector}._domainkey.shop.example.  TXT  {other_key}
        _dmarc.shop.example.  TXT  "v=DMARC1; p=bogus"
        {published(other)}
    """)

    for sender in (shop, other):
        admin_client.post(reverse("delivery:settings_domain_check", args=[sender.pk]))
    rq_burst("default")

    findings = {
        f["record"]: f for f in SenderDomain.objects.get(pk=shop.pk).check_result["findings"]
    }
    assert {name: f["status"] for name, f in findings.items()} == {
        "SPF": "missing",
        "DKIM": "wrong",
        "DMARC": "wrong",
    }
    assert "not the one we sign with" in findings["DKIM"]["problem"]
    html = page(admin_client, reverse("delivery:settings_domain", args=[shop.pk]))
    record = dkim.dns_record(shop.private_key_pem, domain=shop.domain, selector=shop.selector)
    assert html.count(record.value) == 2  # the record to publish, and the fix for DKIM
    assert "p=bogus" in html
    other_findings = SenderDomain.objects.get(pk=other.pk).check_result["findings"]
    assert {f["record"]: f["status"] for f in other_findings}["DKIM"] == "ok"


def test_a_check_of_a_key_rotated_meanwhile_is_not_kept(dns_for_workers, redis_db):
    sender = sender_domain_add("shop.example")
    stale = SenderDomain.objects.get(pk=sender.pk)
    sender_domain_rotate(sender)

    sender_domain_check(stale)  # the job started before the rotation

    sender.refresh_from_db()
    assert (sender.check_result, sender.checked_at) == ({}, None)
