"""The delivery engine end to end: real RQ workers, real DNS on loopback, real SMTP servers."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import dkim
import pytest
from django.utils import timezone

from campaigns.models import Contact, Suppression
from campaigns.services.campaigns import (
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_start,
)
from delivery import dkim as our_dkim
from delivery import reconcile
from delivery.models import (
    Attempt,
    Batch,
    CampaignStats,
    Delivery,
    SenderDomain,
    SiteSetting,
    SiteStats,
)
from tests.factories import make_campaign, make_contact, make_list
from tests.workers import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)

ZONE = """
    shop.example.            300 MX 10 mx.shop.example.
    mx.shop.example.         300 A  127.0.0.1
    a.example.               300 MX 10 mx1.mail.example.
    b.example.               300 MX 10 mx1.mail.example.
    mx1.mail.example.        300 A  127.0.0.1
    nullmx.example.          300 MX 0 .
    implicit.example.        300 A  127.0.0.1
"""


@pytest.fixture(autouse=True, params=["blocking", "async"])
def engine(request, monkeypatch, settings):
    """Every claim holds on both engines (EDM_DELIVERY_ENGINE, the migration path): the
    blocking one in rqworker, the async one in deliveryworker (tests/workers.py)."""
    monkeypatch.setenv("EDM_DELIVERY_ENGINE", request.param)
    settings.EDM_DELIVERY_ENGINE = request.param
    return request.param


@pytest.fixture
def mx_mode(dns_server, smtp_server, settings, monkeypatch):
    """mx delivery mode to the test SMTP server, via the loopback DNS server, for the test
    process (settings) and the worker processes it starts (environment)."""
    dns_server.load(ZONE)
    values = {
        "EDM_DELIVERY_MODE": "mx",
        "EDM_SMTP_PORT": str(smtp_server.port),
        "EDM_DNS_NAMESERVERS": f"{dns_server.address[0]}:{dns_server.address[1]}",
        "EDM_BOUNCE_DOMAIN": "bounces.edm.example",
        "EDM_HELO_NAME": "mta.edm.example",
        "EDM_PUBLIC_URL": "https://edm.example.com",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings.EDM_DELIVERY_MODE = "mx"
    settings.EDM_SMTP_PORT = smtp_server.port
    settings.EDM_DNS_NAMESERVERS = [dns_server.address]
    settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"
    return smtp_server


def dkim_key(domain: str = "shop.example") -> SenderDomain:
    return SenderDomain.objects.create(
        domain=domain, selector="edm1", private_key_pem=our_dkim.generate_private_key().decode()
    )


def verify(message: bytes, sender: SenderDomain) -> bool:
    record = our_dkim.dns_record(
        sender.private_key_pem, domain=sender.domain, selector=sender.selector
    )
    return dkim.verify(message, dnsfunc=lambda name, timeout=5: record.value.encode())


def test_a_campaign_is_routed_by_mx_signed_and_delivered_once_per_person(mx_mode, rq_burst):
    customers, vips = make_list("Customers"), make_list("VIPs")
    for i in range(5):
        make_contact(f"user{i}@a.example", contact_list=customers, name=f"用户{i}")
    make_contact("user0@b.example", contact_list=customers)
    both = make_contact("both@b.example", contact_list=customers)
    vips.memberships.create(contact=both)
    make_contact("x@implicit.example", contact_list=vips)
    sender = dkim_key()
    campaign = make_campaign(lists=[customers, vips], subject="你好 {{ contact.name }}")

    campaign_start(campaign)
    rq_burst()

    received = mx_mode.wait_for_messages(8)
    expected = [f"user{i}@a.example" for i in range(5)]
    expected += ["user0@b.example", "both@b.example", "x@implicit.example"]
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(expected)
    assert all(verify(m.data, sender) for m in received)
    assert all(m.helo == "mta.edm.example" for m in received)
    assert all(
        m.mail_from.startswith("b-") and m.mail_from.endswith("@bounces.edm.example")
        for m in received
    )
    campaign.refresh_from_db()
    assert campaign.status == "finished"
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.audience, stats.sent, stats.queued, stats.deferred) == (8, 8, 0, 0)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert Attempt.objects.filter(outcome="sent", code=250).count() == 8
    by_site = dict(SiteStats.objects.values_list("site", "sent"))
    # a.example and b.example share mx1.mail.example: one site.
    assert by_site == {"mail.example": 7, "implicit.example": 1}
    assert not Batch.objects.exclude(state="done").exists()


def test_planning_dispatches_each_site_as_soon_as_its_first_batch_exists(mx_mode, monkeypatch):
    from delivery import dispatch, planning

    monkeypatch.setattr(planning, "BATCH_SIZE", 2)
    batches_when_dispatched = {}
    real_dispatch = dispatch.site_dispatch

    def site_dispatch(site):
        batches_when_dispatched.setdefault(site, Batch.objects.filter(site=site).count())
        return real_dispatch(site)

    monkeypatch.setattr(dispatch, "site_dispatch", site_dispatch)
    customers = make_list("Customers")
    for i in range(7):
        make_contact(f"user{i}@a.example", contact_list=customers)
    make_contact("x@implicit.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])
    campaign_start(campaign)  # enqueues the planning job; here it runs in this process

    planning.campaign_plan(campaign)

    assert batches_when_dispatched == {"mail.example": 1, "implicit.example": 1}
    assert sorted(Batch.objects.filter(site="mail.example").values_list("size", flat=True)) == [
        1,
        2,
        2,
        2,
    ]
    assert dict(SiteStats.objects.values_list("site", "queued")) == {
        "mail.example": 7,
        "implicit.example": 1,
    }
    # The default limits leave a connection for each of these batches: all are enqueued.
    assert set(Batch.objects.values_list("state", flat=True)) == {"queued"}


def test_planning_never_batches_a_delivery_another_sweep_took_meanwhile(mx_mode, monkeypatch):
    from delivery import planning

    monkeypatch.setattr(planning, "BATCH_SIZE", 3)
    customers = make_list("Customers")
    for i in range(6):
        make_contact(f"user{i}@a.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])
    campaign_start(campaign)
    real_write = planning._Batcher._write
    taken_meanwhile = []

    def write(batcher, site, ids):
        if not taken_meanwhile:  # the reconciler's sweep batches one, a cancel takes another
            other = Batch.objects.create(campaign=campaign, site=site, size=1)
            Delivery.objects.filter(pk=ids[0]).update(batch=other, site=site)
            Delivery.objects.filter(pk=ids[1]).update(status="cancelled")
            taken_meanwhile.extend(ids[:2])
        return real_write(batcher, site, ids)

    monkeypatch.setattr(planning._Batcher, "_write", write)

    planning.campaign_plan(campaign)

    mine = Batch.objects.filter(campaign=campaign).exclude(deliveries__pk=taken_meanwhile[0])
    assert sorted(mine.values_list("size", flat=True)) == [1, 3]
    assert Delivery.objects.filter(batch__in=mine).count() == 4
    assert SiteStats.objects.get(site="mail.example").queued == 4


def test_domains_that_take_no_mail_bounce_without_connecting(mx_mode, rq_burst):
    customers = make_list()
    make_contact("someone@nullmx.example", contact_list=customers)
    gone = make_contact("someone@nowhere.example", contact_list=customers)
    make_contact("ok@a.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])

    campaign_start(campaign)
    rq_burst()

    outcomes = {d.email: (d.status, d.reason, d.hard) for d in Delivery.objects.all()}
    assert outcomes["someone@nullmx.example"] == ("bounced", "notaccept", True)
    assert outcomes["someone@nowhere.example"] == ("bounced", "hostunknown", True)
    assert outcomes["ok@a.example"][0] == "sent"
    assert [m.rcpt_tos for m in mx_mode.messages] == [["ok@a.example"]]
    gone.refresh_from_db()
    assert gone.status == Contact.Status.BOUNCED
    assert Suppression.objects.filter(value="someone@nowhere.example").exists()


def test_a_user_unknown_reply_bounces_suppresses_and_the_next_campaign_skips_it(mx_mode, rq_burst):
    mx_mode.recorder.script.rcpt["gone@a.example"] = "550 5.1.1 The email account does not exist"
    customers = make_list()
    gone = make_contact("gone@a.example", contact_list=customers)
    make_contact("here@a.example", contact_list=customers)

    campaign_start(make_campaign(lists=[customers]))
    rq_burst()

    delivery = Delivery.objects.get(email="gone@a.example")
    assert (delivery.status, delivery.reason, delivery.hard, delivery.last_code) == (
        "bounced",
        "userunknown",
        True,
        550,
    )
    gone.refresh_from_db()
    assert gone.status == Contact.Status.BOUNCED

    second = make_campaign(lists=[customers], name="Second")
    campaign_start(second)
    rq_burst()
    assert list(second.deliveries.values_list("email", flat=True)) == ["here@a.example"]


def test_a_sender_side_rejection_never_suppresses_the_recipient(mx_mode, rq_burst):
    mx_mode.recorder.script.rcpt["fine@a.example"] = (
        "550 5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus"
    )
    customers = make_list()
    fine = make_contact("fine@a.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])

    campaign_start(campaign)
    rq_burst()

    delivery = Delivery.objects.get()
    assert delivery.status == "bounced"
    assert delivery.hard is False
    fine.refresh_from_db()
    assert fine.status == Contact.Status.ENABLED
    assert CampaignStats.objects.get(campaign=campaign).sender_rejected == 1


def test_a_temporary_failure_is_retried_with_backoff_until_it_goes_through(
    mx_mode, rq_burst, settings
):
    mx_mode.recorder.script.rcpt["later@a.example"] = "451 4.3.0 Try again later"
    customers = make_list()
    make_contact("later@a.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])

    campaign_start(campaign)
    rq_burst()

    delivery = Delivery.objects.get()
    assert delivery.status == "deferred"
    wait = delivery.next_attempt_at - timezone.now()
    assert dt.timedelta(minutes=4) < wait < dt.timedelta(minutes=6)
    assert CampaignStats.objects.get(campaign=campaign).deferred == 1

    del mx_mode.recorder.script.rcpt["later@a.example"]
    Delivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    reconcile.reconcile()
    rq_burst()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    campaign.refresh_from_db()
    assert campaign.status == "finished"
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.deferred, stats.queued) == (1, 0, 0)


def wait_until(predicate, *, timeout: float, every: float = 0.5, tick=lambda: None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tick()
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def campaign_status(campaign) -> str:
    campaign.refresh_from_db(fields=["status"])
    return campaign.status


@pytest.fixture
def fast_takeover(monkeypatch, settings):
    """A dead worker's batch is taken over after 2 s instead of a minute."""
    monkeypatch.setenv("EDM_BATCH_STALE_SECONDS", "2")
    settings.EDM_BATCH_STALE_SECONDS = 2


def test_a_worker_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(
    mx_mode, fast_takeover, transactional_db, redis_db
):
    customers = make_list()
    for i in range(400):
        make_contact(f"user{i:03}@a.example", contact_list=customers)
    SiteSetting.objects.create(site="mail.example", rate="100/s")  # ~4 s of sending
    campaign = make_campaign(lists=[customers])
    first = WorkerProcess(())
    try:
        campaign_start(campaign)
        assert wait_until(lambda: len(mx_mode.messages) >= 60, timeout=30)
        first.kill()  # the worker and its work horse (or the deliveryworker)
        killed_at = len(mx_mode.messages)
    finally:
        first.stop()

    second = WorkerProcess(())
    try:
        finished = wait_until(
            lambda: campaign_status(campaign) == "finished",
            timeout=90,
            every=1,
            tick=reconcile.reconcile,
        )
    finally:
        second.stop()
    assert finished, second.output()[-3000:]
    assert killed_at < 400  # the kill really came mid-campaign
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    copies = Counter(m.rcpt_tos[0] for m in mx_mode.messages)
    assert set(copies) == {f"user{i:03}@a.example" for i in range(400)}
    assert sum(n - 1 for n in copies.values()) <= 1  # at most the message in flight, twice
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.queued, stats.deferred) == (400, 0, 0)


def test_three_workers_never_open_more_connections_than_the_site_allows(
    mx_mode, transactional_db, redis_db
):
    customers = make_list()
    for i in range(1200):
        make_contact(f"user{i:04}@a.example", contact_list=customers)
    SiteSetting.objects.create(site="mail.example", max_connections=2)
    campaign = make_campaign(lists=[customers])
    workers = [WorkerProcess(()) for _ in range(3)]
    try:
        campaign_start(campaign)
        finished = wait_until(lambda: campaign_status(campaign) == "finished", timeout=120)
        log = workers[0].output()
    finally:
        for worker in workers:
            worker.stop()
    assert finished, log[-3000:]
    assert len(mx_mode.messages) == 1200
    assert mx_mode.max_simultaneous == 2


def test_pause_resume_and_cancel_reach_running_batches_within_seconds(
    mx_mode, transactional_db, redis_db
):
    customers = make_list()
    for i in range(600):
        make_contact(f"user{i:03}@a.example", contact_list=customers)
    SiteSetting.objects.create(site="mail.example", rate="50/s")  # 12 s for everything
    campaign = make_campaign(lists=[customers])
    worker = WorkerProcess(())
    try:
        campaign_start(campaign)
        assert wait_until(lambda: len(mx_mode.messages) >= 30, timeout=30)
        campaign_pause(campaign)
        paused_at = time.monotonic()
        assert wait_until(lambda: not Batch.objects.filter(state="running").exists(), timeout=5)
        assert time.monotonic() - paused_at < 5
        sent_while_paused = len(mx_mode.messages)
        time.sleep(2)
        assert len(mx_mode.messages) == sent_while_paused  # nothing more goes out
        assert sent_while_paused < 600

        campaign_resume(campaign)
        assert wait_until(lambda: len(mx_mode.messages) > sent_while_paused + 20, timeout=30)
        campaign_cancel(campaign)
        assert wait_until(lambda: not Batch.objects.filter(state="running").exists(), timeout=5)
        final = len(mx_mode.messages)
        time.sleep(2)
        assert len(mx_mode.messages) == final
    finally:
        worker.stop()
    assert final < 600
    counts = Counter(Delivery.objects.values_list("status", flat=True))
    assert counts["sent"] == final
    assert counts["cancelled"] == 600 - final
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.sent, stats.cancelled, stats.queued, stats.deferred) == (final, 600 - final, 0, 0)
