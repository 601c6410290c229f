"""Bounces end to end: a campaign goes out through real workers to a real SMTP server that
accepts everything; what comes back later (a DSN, a complaint report, an auto-reply, an
unsubscribe mail) is sent over SMTP to bounce-in on loopback or read from a mailbox, and
processed by the real workers."""

from __future__ import annotations

import re
import smtplib
import ssl

import pytest
import trustme
from django.core.management import call_command

from campaigns.models import Contact, Membership, Suppression
from campaigns.services.campaigns import campaign_start
from delivery.inbound.processing import inbound_process_enqueue
from delivery.models import BounceEvent, CampaignStats, Delivery, InboundMessage, SiteStats
from tests.delivery import returns
from tests.factories import make_campaign, make_contact, make_list
from tests.mailboxes import ImapHandler, Mailbox, RunningServer
from tests.smtpd_thread import bounce_handler, running_smtpd

pytestmark = pytest.mark.django_db(transaction=True)

BOUNCE_DOMAIN = "bounces.edm.example"
ZONE = """
    a.example.               300 MX 10 mx1.mail.example.
    mx1.mail.example.        300 A  127.0.0.1
"""


@pytest.fixture
def mx_mode(dns_server, smtp_server, settings, monkeypatch):
    """mx delivery to the test SMTP server through the loopback DNS server, for this process
    (settings) and the worker processes it starts (environment)."""
    dns_server.load(ZONE)
    values = {
        "EDM_DELIVERY_MODE": "mx",
        "EDM_SMTP_PORT": str(smtp_server.port),
        "EDM_DNS_NAMESERVERS": f"{dns_server.address[0]}:{dns_server.address[1]}",
        "EDM_BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        "EDM_PUBLIC_URL": "https://edm.example.com",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings.EDM_DELIVERY_MODE = "mx"
    settings.EDM_SMTP_PORT = smtp_server.port
    settings.EDM_DNS_NAMESERVERS = [dns_server.address]
    settings.EDM_BOUNCE_DOMAIN = BOUNCE_DOMAIN
    return smtp_server


@pytest.fixture
def bounce_in(transactional_db):
    """bounce-in on a loopback port, enqueuing each stored message's processing (as in
    `manage.py bounce_server`)."""
    with running_smtpd(bounce_handler(BOUNCE_DOMAIN, on_stored=inbound_process_enqueue)) as port:
        yield port


def send_back(port: int, raw: bytes, *, to: str) -> None:
    """Mail `raw` to bounce-in with the null sender, as mailer daemons and feedback loops do."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.sendmail("", [to], raw)


def sent_to(server, email: str):
    return next(m for m in server.messages if m.rcpt_tos == [email])


def next_campaign_audience(customers, rq_burst) -> list[str]:
    """Who the next campaign to the same list is planned for."""
    second = make_campaign(lists=[customers], name="Next week")
    campaign_start(second)
    rq_burst()
    return sorted(second.deliveries.values_list("email", flat=True))


@pytest.fixture
def sent_campaign(mx_mode, rq_burst):
    """A campaign to gone@ and here@a.example, accepted by the SMTP server and recorded sent."""
    customers = make_list("Customers")
    make_contact("gone@a.example", contact_list=customers)
    make_contact("here@a.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])
    campaign_start(campaign)
    rq_burst()
    mx_mode.wait_for_messages(2)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    return campaign, customers


def test_a_dsn_after_acceptance_bounces_the_delivery_and_the_next_campaign_skips_it(
    mx_mode, sent_campaign, bounce_in, rq_burst
):
    campaign, customers = sent_campaign
    accepted = sent_to(mx_mode, "gone@a.example")
    dsn = returns.dsn(accepted.data, to=accepted.mail_from, recipient="gone@a.example")

    send_back(bounce_in, dsn, to=accepted.mail_from)
    rq_burst()

    delivery = Delivery.objects.get(email="gone@a.example")
    assert (delivery.status, delivery.reason, delivery.hard) == ("bounced", "userunknown", True)
    assert Contact.objects.get(email="gone@a.example").status == Contact.Status.BOUNCED
    assert Suppression.objects.get(value="gone@a.example").reason == "bounced"
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.audience, stats.sent, stats.bounced_hard) == (2, 1, 1)
    assert returns.counters_add_up(campaign)
    site = SiteStats.objects.get(campaign=campaign, site="mail.example")
    assert (site.sent, site.bounced) == (1, 1)
    received = InboundMessage.objects.get()
    assert (received.state, received.kind) == ("processed", "bounce")
    event = BounceEvent.objects.get()
    assert (event.source, event.delivery_id, event.inbound_id) == ("mail", delivery.pk, received.pk)

    assert next_campaign_audience(customers, rq_burst) == ["here@a.example"]


def test_a_complaint_report_marks_the_delivery_complained_and_the_next_campaign_skips_it(
    mx_mode, sent_campaign, bounce_in, rq_burst
):
    campaign, customers = sent_campaign
    newsletter = make_list("Newsletter")
    here = Contact.objects.get(email="here@a.example")
    Membership.objects.create(list=newsletter, contact=here)
    accepted = sent_to(mx_mode, "here@a.example")
    # Feedback loops report to an address of their own choosing, not the return path: the
    # complaint is matched by the Message-ID of the message it returns.
    report = returns.arf(accepted.data, to=f"fbl@{BOUNCE_DOMAIN}", recipient="here@a.example")

    send_back(bounce_in, report, to=f"fbl@{BOUNCE_DOMAIN}")
    rq_burst()

    delivery = Delivery.objects.get(email="here@a.example")
    assert delivery.status == "complained"
    here.refresh_from_db()
    assert here.status == Contact.Status.COMPLAINED
    assert set(here.memberships.values_list("status", flat=True)) == {"unsubscribed"}
    assert Suppression.objects.get(value="here@a.example").reason == "complained"
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.complained) == (2, 1)
    assert returns.counters_add_up(campaign)

    assert next_campaign_audience(customers, rq_burst) == ["gone@a.example"]


def test_an_auto_reply_changes_nothing(mx_mode, sent_campaign, bounce_in, rq_burst):
    campaign, customers = sent_campaign
    accepted = sent_to(mx_mode, "here@a.example")
    message_id = re.search(rb"Message-ID: (<[^>]+>)", accepted.data).group(1).decode()
    reply = returns.auto_reply(message_id, to=accepted.mail_from, sender="here@a.example")

    send_back(bounce_in, reply, to=accepted.mail_from)
    rq_burst()

    received = InboundMessage.objects.get()
    assert (received.state, received.kind) == ("processed", "autoreply")
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Contact.objects.values_list("status", flat=True)) == {"enabled"}
    assert not BounceEvent.objects.exists()
    assert not Suppression.objects.exists()
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.bounced_hard, stats.complained) == (2, 0, 0)
    assert next_campaign_audience(customers, rq_burst) == ["gone@a.example", "here@a.example"]


def test_a_mail_to_the_list_unsubscribe_address_unsubscribes(
    mx_mode, sent_campaign, bounce_in, rq_burst
):
    campaign, customers = sent_campaign
    accepted = sent_to(mx_mode, "here@a.example")
    mailto = re.search(rb"<mailto:([^?>]+)", accepted.data).group(1).decode()

    send_back(bounce_in, returns.unsubscribe_mail(to=mailto, sender="here@a.example"), to=mailto)
    rq_burst()

    assert InboundMessage.objects.get().kind == "unsubscribe"
    assert customers.memberships.get(contact__email="here@a.example").status == "unsubscribed"
    assert CampaignStats.objects.get(campaign=campaign).unsubscribed == 1
    assert next_campaign_audience(customers, rq_burst) == ["gone@a.example"]


def test_a_refusal_during_delivery_is_a_bounce_event_too(mx_mode, rq_burst):
    mx_mode.recorder.script.rcpt["gone@a.example"] = "550 5.1.1 The email account does not exist"
    customers = make_list()
    make_contact("gone@a.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])

    campaign_start(campaign)
    rq_burst()

    event = BounceEvent.objects.get()
    assert (event.source, event.reason, event.hard, event.code) == (
        "delivery",
        "userunknown",
        True,
        550,
    )
    assert event.status == "5.1.1"
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.queued, stats.sent, stats.bounced_hard) == (0, 0, 1)
    assert returns.counters_add_up(campaign)
    assert SiteStats.objects.get(campaign=campaign).bounced == 1


@pytest.fixture
def ca_trusted(tmp_path, monkeypatch):
    """A trustme CA that the default TLS context of this process trusts (SSL_CERT_FILE)."""
    ca = trustme.CA()
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    return server


def test_bounces_polled_from_a_mailbox_are_processed(mx_mode, sent_campaign, ca_trusted, rq_burst):
    campaign, _ = sent_campaign
    accepted = sent_to(mx_mode, "gone@a.example")
    box = Mailbox(user="bounces", password="s3cret")
    # The mailbox keeps no envelope: the return path is in the headers the MTA added.
    dsn = returns.dsn(accepted.data, to=accepted.mail_from, recipient="gone@a.example")
    box.folders["INBOX"].append(b"Delivered-To: " + accepted.mail_from.encode() + b"\r\n" + dsn)
    server = RunningServer(ImapHandler, box, ca_trusted)
    try:
        call_command("poll_bounces", url=f"imaps://bounces:s3cret@127.0.0.1:{server.port}/INBOX")
    finally:
        server.stop()
    assert box.folders["INBOX"] == []
    rq_burst()

    received = InboundMessage.objects.get()
    assert (received.source, received.state) == ("mailbox", "processed")
    delivery = Delivery.objects.get(email="gone@a.example")
    assert (delivery.status, delivery.hard) == ("bounced", True)
    assert CampaignStats.objects.get(campaign=campaign).bounced_hard == 1
