"""delivery/engine/worker.py end to end: `manage.py deliveryworker` processes, real DNS on
loopback, real SMTP servers (aiosmtpd, and tests/smtpsink.py for a host that never greets).

The claims every engine must hold (SIGKILL mid-campaign, three workers under a connection
limit, pause/resume/cancel…) run on both engines in test_engine.py; these are the async
worker's own."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from campaigns.services.campaigns import campaign_start
from delivery import reconcile
from delivery.models import Batch, Delivery, SiteSetting
from tests.delivery.test_engine import campaign_status, wait_until
from tests.factories import make_campaign, make_contact, make_list
from tests.smtpsink import Behaviour, running_sink
from tests.workers import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)

SILENT = "127.0.0.2"  # loopback too; the aiosmtpd server listens on 127.0.0.1 only
ZONE = """
    a.example.               300 MX 10 mx1.mail.example.
    mx1.mail.example.        300 A  127.0.0.1
    silent.example.          300 MX 10 mx.silent.example.
    mx.silent.example.       300 A  127.0.0.2
"""


@pytest.fixture
def async_mx(dns_server, smtp_server, settings, monkeypatch, transactional_db, redis_db):
    """mx mode with the async engine, for this process and the workers it starts."""
    dns_server.load(ZONE)
    values = {
        "EDM_DELIVERY_ENGINE": "async",
        "EDM_DELIVERY_MODE": "mx",
        "EDM_SMTP_PORT": str(smtp_server.port),
        "EDM_DNS_NAMESERVERS": f"{dns_server.address[0]}:{dns_server.address[1]}",
        "EDM_BOUNCE_DOMAIN": "bounces.edm.example",
        "EDM_HELO_NAME": "mta.edm.example",
        "EDM_PUBLIC_URL": "https://edm.example.com",
        # A host that never greets keeps its session waiting for ten minutes.
        "EDM_SMTP_TIMEOUT_GREETING": "600",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings.EDM_DELIVERY_ENGINE = "async"
    settings.EDM_DELIVERY_MODE = "mx"
    settings.EDM_SMTP_PORT = smtp_server.port
    settings.EDM_DNS_NAMESERVERS = [dns_server.address]
    settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"
    return smtp_server


def sent(domain: str) -> int:
    return Delivery.objects.filter(domain=domain, status="sent").count()


def test_a_silent_host_does_not_delay_another_sites_batches_in_one_delivery_worker(async_mx):
    customers = make_list()
    make_contact("someone@silent.example", contact_list=customers)
    for i in range(450):  # three batches of a.example
        make_contact(f"user{i:03}@a.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])

    with running_sink(Behaviour(stall=frozenset({"greeting"})), SILENT, async_mx.port) as silent:
        worker = WorkerProcess(())
        try:
            campaign_start(campaign)
            finished = wait_until(lambda: sent("a.example") == 450, timeout=90)
            silent_batch = Batch.objects.get(site="silent.example").state
            waiting = silent.counters.open
            silent_messages = silent.counters.messages
            log = worker.output()
        finally:
            worker.stop()

    assert finished, log[-3000:]
    assert len(async_mx.messages) == 450
    # The other site's three batches finished while the silent host's session still waits.
    assert silent_batch == "running"
    assert (waiting, silent_messages) == (1, 0)
    assert Delivery.objects.get(domain="silent.example").status == "queued"


def test_sigterm_stops_batches_between_messages_and_nothing_is_lost_or_sent_twice(async_mx):
    customers = make_list()
    for i in range(400):
        make_contact(f"user{i:03}@a.example", contact_list=customers)
    SiteSetting.objects.create(site="mail.example", rate="50/s")  # 8 s for everything
    campaign = make_campaign(lists=[customers])
    first = WorkerProcess(())
    try:
        campaign_start(campaign)
        assert wait_until(lambda: len(async_mx.messages) >= 30, timeout=30)
        delivery_worker = first.processes[1]
        delivery_worker.send_signal(signal.SIGTERM)
        exit_code = delivery_worker.wait(timeout=15)
        stopped_at = len(async_mx.messages)
        running_after = Batch.objects.filter(state="running").count()
        sent_after = Delivery.objects.filter(status="sent").count()
    finally:
        first.stop()

    assert exit_code == 0
    assert running_after == 0  # stopped and released, not left for a takeover
    assert sent_after == stopped_at < 400  # every accepted message recorded

    second = WorkerProcess(())
    try:
        finished = wait_until(
            lambda: campaign_status(campaign) == "finished",
            timeout=90,
            every=1,
            tick=reconcile.reconcile,
        )
        log = second.output()
    finally:
        second.stop()
    assert finished, log[-3000:]
    copies = Counter(m.rcpt_tos[0] for m in async_mx.messages)
    assert set(copies) == {f"user{i:03}@a.example" for i in range(400)}
    assert max(copies.values()) == 1  # a clean stop leaves nothing in flight


MANY = 100  # sites, each with one batch on one session
EACH = 8  # messages per site


@pytest.fixture
def many_sites(async_mx, dns_server, monkeypatch, settings):
    """MANY sites (d<n>.example, each its own MX) served by one delaying sink on 127.0.0.3;
    a dead worker's batches are taken over after 2 s."""
    zone = "".join(
        f"d{n}.example. 300 MX 10 mx.d{n}.example.\nmx.d{n}.example. 300 A 127.0.0.3\n"
        for n in range(MANY)
    )
    dns_server.load(zone)
    with running_sink(Behaviour(reply_delay=0.25), "127.0.0.3") as sink:
        monkeypatch.setenv("EDM_SMTP_PORT", str(sink.port))
        settings.EDM_SMTP_PORT = sink.port
        monkeypatch.setenv("EDM_BATCH_STALE_SECONDS", "2")
        settings.EDM_BATCH_STALE_SECONDS = 2
        yield sink


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


# A known bug of the async engine, which is not the default (EDM_DELIVERY_ENGINE=async): in
# one whole-suite run on PostgreSQL, with a second suite loading the machine, the worker
# started after the kill never took the batches the reconciler handed back, and the campaign
# did not finish in 120 s; it passed in the other runs. docs/DELIVERY.md, "What remains".
@pytest.mark.xfail(
    reason="async engine: a worker started after a SIGKILL sometimes never takes the "
    "batches handed back (docs/DELIVERY.md, What remains)",
    strict=False,
)
def test_sigkill_with_many_sessions_open_loses_nothing_and_resends_only_what_was_in_flight(
    many_sites,
):
    customers = make_list()
    for n in range(MANY):
        for i in range(EACH):
            make_contact(f"user{i}@d{n}.example", contact_list=customers)
    campaign = make_campaign(lists=[customers])
    counters = many_sites.counters
    first = WorkerProcess(())
    try:
        campaign_start(campaign)
        # A kill once half the sessions are open at once and messages are going out (a batch
        # takes 4 s at 0.25 s a reply).
        assert wait_until(
            lambda: counters.open >= MANY // 2 and counters.messages > 0, timeout=60, every=0.05
        )
        open_at_kill = counters.open
        rss_at_kill = rss_mib(first.processes[1].pid)
        first.kill()
        received_at_kill = counters.messages
    finally:
        first.stop()

    second = WorkerProcess(())
    try:
        finished = wait_until(
            lambda: campaign_status(campaign) == "finished",
            timeout=120,
            every=1,
            tick=reconcile.reconcile,
        )
        log = second.output()
    finally:
        second.stop()
    assert finished, log[-3000:]
    assert open_at_kill >= MANY // 2  # many sessions in flight in one worker
    assert rss_at_kill < 300  # MiB: the bound for a worker with 200 sessions open
    assert received_at_kill < MANY * EACH  # the kill came mid-campaign
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    # Each session may have had one message past its final dot and not yet marked.
    assert MANY * EACH <= counters.messages <= MANY * EACH + open_at_kill, (
        open_at_kill,
        rss_at_kill,
    )
