"""Delivery throughput: a 100,000-recipient campaign from "start" until every delivery is recorded.

    .venv/bin/python bench/bench_delivery.py [--recipients 100000] [--domains 50] [--workers 2]

    # the network profile: every reply 50 ms late, and Postfix relaying the same to the same
    .venv/bin/python bench/bench_delivery.py --reply-delay 0.05 --domains 40 --messages 2000 \
        --postfix

What runs, all on this machine and on loopback only:
- PostgreSQL (a scratch database, dropped and created: --database) and Redis (--redis-url,
  a database number of its own, flushed);
- a real nameserver (tests/dnsserver.py) serving MX records for the recipient domains, each
  domain its own site with the default limits; the workers resolve them over UDP;
- Postfix's `smtp-sink` as every domain's MX, on 127.0.0.1; with `--reply-delay`, the sink
  of tests/smtpsink.py instead (smtp-sink cannot delay its replies), in a process of its
  own, each domain's MX on a loopback address of its own (127.0.1.1, 127.0.1.2, …);
- N `manage.py rqworker` processes (the production worker command), DKIM on, 20 KB of
  personalized HTML per message.

It prints messages/s from start to the last delivery recorded, the workers' memory over the
run, and the ceiling measured in the same run: Postfix's own `smtp-source -d -s 8 -l 20000`
into the same kind of sink. With `--postfix` (for `--reply-delay` runs) the reference is
instead a private Postfix (bench/postfix_peer.py, its defaults) relaying as many messages, of
the size the engine sent, to the same sinks: timed from the first message handed to it until
the sinks have received them all.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", "--messages", type=int, default=100_000)
    parser.add_argument("--domains", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--html-kb", type=int, default=20)
    parser.add_argument("--database", default="edm_bench_delivery")
    parser.add_argument("--pg", default="postgres@127.0.0.1:5432")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--ceiling-messages", type=int, default=20_000)
    parser.add_argument(
        "--reply-delay", type=float, default=0.0, help="seconds before every SMTP reply"
    )
    parser.add_argument(
        "--postfix", action="store_true", help="race a private Postfix (with --reply-delay)"
    )
    parser.add_argument(
        "--engine",
        choices=("blocking", "async"),
        default="blocking",
        help="EDM_DELIVERY_ENGINE: rqworkers, or one rqworker plus N deliveryworkers",
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="run the first worker under cProfile, stats to FILE"
    )
    return parser.parse_args()


def start_sink(port: int) -> subprocess.Popen:
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    # -c: count; a large backlog so 8 parallel sessions never wait for accept(). As root it
    # insists on dropping privileges (-u).
    privileges = ["-u", "nobody"] if os.geteuid() == 0 else []
    return subprocess.Popen(
        [sink, *privileges, "-c", f"127.0.0.1:{port}", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for_port(port: int) -> None:
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def ceiling(messages: int) -> float:
    """Postfix's smtp-source into smtp-sink: 8 sessions, connections kept, 20 KB messages."""
    port = free_port()
    sink = start_sink(port)
    try:
        wait_for_port(port)
        source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
        started = time.perf_counter()
        subprocess.run(
            [source, "-d", "-s", "8", "-l", "20000", "-m", str(messages), f"127.0.0.1:{port}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return messages / (time.perf_counter() - started)
    finally:
        os.killpg(sink.pid, signal.SIGTERM)
        sink.wait()


def recreate_database(args: argparse.Namespace) -> str:
    user, _, hostport = args.pg.partition("@")
    host, _, port = hostport.partition(":")
    base = ["psql", "-h", host, "-p", port, "-U", user, "-d", "postgres", "-q", "-c"]
    subprocess.run([*base, f'DROP DATABASE IF EXISTS "{args.database}"'], check=True)
    subprocess.run([*base, f'CREATE DATABASE "{args.database}"'], check=True)
    return f"postgres://{user}@{host}:{port}/{args.database}"


def html_body(kilobytes: int) -> str:
    """A newsletter of about `kilobytes` KB: static copy with a dozen personalized values."""
    filler = (
        '<tr><td style="padding:8px 24px;font-size:15px;color:#333;line-height:1.5">'
        "Our spring collection is here: light jackets, linen shirts and the sandals you asked "
        "for, made to last and shipped in recycled packaging from our own warehouse.</td></tr>\n"
    )
    personal = (
        "<h1>Hello {{ contact.name }}</h1>"
        "<p>As a {{ contact.attributes.tier|default('friend') }} member in "
        "{{ contact.attributes.city|default('your city') }} you get early access until "
        "{{ today|date('%Y-%m-%d') }}. Order {{ contact.attributes.order }} ships free to "
        "{{ contact.email }}.</p>"
    )
    closing = (
        '<p><a href="{{ view_online_url }}">View online</a> · '
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a> · {{ campaign.name }}</p>'
    )
    repeats = max(1, (kilobytes * 1024 - len(personal) - len(closing)) // len(filler))
    return (
        "<html><head><style>td{font-family:Arial,sans-serif}</style></head><body>"
        + personal
        + "<table>"
        + filler * repeats
        + "</table>"
        + closing
        + "</body></html>"
    )


def zone(addresses: list[str]) -> str:
    """An MX for each domain d00.example, d01.example…, at the address of the same index."""
    lines = []
    for i, address in enumerate(addresses):
        lines.append(f"d{i:02}.example. 3600 MX 10 mx.d{i:02}.example.")
        lines.append(f"mx.d{i:02}.example. 3600 A {address}")
    return "\n".join(lines)


def mx_addresses(args: argparse.Namespace) -> list[str]:
    """Where each domain's MX listens: one smtp-sink on 127.0.0.1, or a delaying sink's own
    loopback address per domain (so that Postfix, which limits concurrency per next hop,
    sees 40 destinations as it would 40 providers)."""
    if not args.reply_delay:
        return ["127.0.0.1"] * args.domains
    return [f"127.0.1.{i + 1}" for i in range(args.domains)]


def populate(args: argparse.Namespace) -> int:
    """Contacts, a list, a campaign and a DKIM key, written with set-based SQL."""
    from django.db import connection

    from campaigns.models import Campaign, ContactList
    from delivery.dkim import generate_private_key
    from delivery.models import SenderDomain

    contact_list = ContactList.objects.create(name="Bench")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO campaigns_contact (email, email_key, domain, name, attributes, status,
                                           created_at, updated_at)
            SELECT 'user' || n || '@d' || lpad((n %% %s)::text, 2, '0') || '.example',
                   'user' || n || '@d' || lpad((n %% %s)::text, 2, '0') || '.example',
                   'd' || lpad((n %% %s)::text, 2, '0') || '.example',
                   'Customer ' || n,
                   jsonb_build_object('tier', 'gold', 'city', 'Hangzhou', 'order', n),
                   'enabled', now(), now()
            FROM generate_series(1, %s) AS n
            """,
            [args.domains, args.domains, args.domains, args.recipients],
        )
        cursor.execute(
            """
            INSERT INTO campaigns_membership (list_id, contact_id, status, created_at, updated_at)
            SELECT %s, id, 'subscribed', now(), now() FROM campaigns_contact
            """,
            [contact_list.pk],
        )
    SenderDomain.objects.create(
        domain="shop.example", selector="bench", private_key_pem=generate_private_key().decode()
    )
    campaign = Campaign.objects.create(
        name="Bench",
        from_name="Shop",
        from_email="news@shop.example",
        subject="Hello {{ contact.name }}, spring is here",
        html=html_body(args.html_kb),
    )
    campaign.lists.set([contact_list])
    return campaign.pk


def rss_of_tree(pid: int) -> int:
    """Resident memory (KiB) of a process and its children (the RQ work horses)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(c) for c in children.read_text().split()]
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+)", status)
        total += int(found[1]) if found else 0
    return total


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, children included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # Fields after the command: state is [0]; utime, stime, cutime, cstime are [11:15].
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent not idle (all processes)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def timeline(progress: list[tuple[float, int]], total: int) -> tuple[float, float, float] | None:
    """When the first delivery was recorded, the rate between 10% and 90%, the last 10%'s time."""

    def first_at(count: int) -> float | None:
        return next((t for t, done in progress if done >= count), None)

    first, tenth, ninth, end = (first_at(n) for n in (1, total // 10, total * 9 // 10, total))
    if None in (first, tenth, ninth, end) or ninth <= tenth:
        return None
    return first, (total * 8 // 10) / (ninth - tenth), end - ninth


def main() -> None:
    args = parse_args()
    if not args.reply_delay:
        print(f"ceiling: smtp-source -d -s 8 -l 20000 -m {args.ceiling_messages} into smtp-sink …")
        top = ceiling(args.ceiling_messages)
        print(f"  {top:,.0f} messages/s")
        return run(args, None, reference=("the smtp-source ceiling", top))

    from tests.smtpsink import Behaviour, SinkProcess

    addresses = tuple(mx_addresses(args))
    print(f"sinks: {len(addresses)} addresses, {args.reply_delay * 1000:g} ms before every reply")
    with SinkProcess(Behaviour(reply_delay=args.reply_delay), hosts=addresses) as sink:
        run(args, sink)


def run(args: argparse.Namespace, delaying, reference: tuple[str, float] | None = None) -> None:
    """The campaign into smtp-sink, or into the `delaying` sink (then Postfix, if asked)."""
    database_url = recreate_database(args)
    from tests.dnsserver import DnsServer

    dns = DnsServer(zone(mx_addresses(args))).start()
    sink_port = free_port() if delaying is None else delaying.port
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "EDM_DELIVERY_MODE": "mx",
        "EDM_SMTP_PORT": str(sink_port),
        "EDM_DNS_NAMESERVERS": f"{dns.address[0]}:{dns.address[1]}",
        "EDM_BOUNCE_DOMAIN": "bounces.shop.example",
        "EDM_HELO_NAME": "mta.shop.example",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost",
        "PYTHONUNBUFFERED": "1",
        "EDM_DELIVERY_ENGINE": args.engine,
    }
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edm.settings")
    django.setup()
    from campaigns.models import Campaign
    from campaigns.services.campaigns import campaign_start
    from delivery.models import CampaignStats
    from edm import redis as edm_redis

    edm_redis.connection().flushdb()
    print(f"populating {args.recipients:,} recipients over {args.domains} domains …")
    campaign_id = populate(args)

    sink = None
    if delaying is None:
        sink = start_sink(sink_port)
        wait_for_port(sink_port)
    # As in production: the first worker also runs RQ's scheduler (delayed batches). With the
    # async engine, N deliveryworkers send and one more rqworker plans (the launcher's layout).
    logs = [open(f"/tmp/bench-worker-{n}.log", "w") for n in range(args.workers + 1)]  # noqa: SIM115
    profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
    if args.engine == "async":
        commands = [[*profile, "manage.py", "deliveryworker"]] + [
            ["manage.py", "deliveryworker"] for _ in range(args.workers - 1)
        ]
        commands.append(["manage.py", "rqworker", "--with-scheduler", "default"])
    else:
        commands = [
            [
                *(profile if n == 0 else []),
                "manage.py",
                "rqworker",
                *(["--with-scheduler"] if n == 0 else []),
                "default",
                "delivery",
            ]
            for n in range(args.workers)
        ]
    workers = [
        subprocess.Popen(
            [sys.executable, *command],
            cwd=ROOT,
            env=env,
            stdout=logs[n],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for n, command in enumerate(commands)
    ]
    memory: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            memory.append(sum(rss_of_tree(w.pid) for w in workers))

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        time.sleep(2)  # the workers are up
        sampler.start()
        campaign = Campaign.objects.get(pk=campaign_id)
        cpu_before = sum(cpu_seconds(w.pid) for w in workers)
        busy_before = machine_busy_seconds()
        started = time.perf_counter()
        campaign_start(campaign)
        progress: list[tuple[float, int]] = []  # (seconds since start, deliveries recorded)
        while True:
            time.sleep(0.5)
            stats = CampaignStats.objects.filter(campaign_id=campaign_id).first()
            if stats is not None:
                done = stats.sent + stats.bounced + stats.failed
                progress.append((time.perf_counter() - started, done))
            if stats is not None and stats.audience and stats.queued == 0 and stats.deferred == 0:
                break
            if time.perf_counter() - started > 1800:
                raise SystemExit("gave up after 30 minutes")
        elapsed = time.perf_counter() - started
        cpu_used = sum(cpu_seconds(w.pid) for w in workers) - cpu_before
        busy = machine_busy_seconds() - busy_before
    finally:
        stop.set()
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait()
        if sink is not None:
            os.killpg(sink.pid, signal.SIGTERM)
            sink.wait()
        dns.stop()

    stats = CampaignStats.objects.get(campaign_id=campaign_id)
    rate = stats.audience / elapsed
    print(
        f"campaign: {stats.audience:,} recipients, sent {stats.sent:,}, "
        f"deferred {stats.deferred}, bounced {stats.bounced}, failed {stats.failed}"
    )
    print(f"  {elapsed:.1f} s from start to the last delivery recorded: {rate:,.0f} messages/s")
    phases = timeline(progress, stats.audience)
    if phases:
        print(
            f"  first delivery recorded after {phases[0]:.1f} s; from 10% to 90% "
            f"{phases[1]:,.0f} messages/s; the last 10% took {phases[2]:.1f} s"
        )
    if memory:
        third = max(1, len(memory) // 3)
        print(
            f"  workers' RSS (sum of {args.workers}, MiB): first third max "
            f"{max(memory[:third]) / 1024:.0f}, last third max {max(memory[-third:]) / 1024:.0f},"
            f" overall max {max(memory) / 1024:.0f}"
        )
    print(
        f"  workers' CPU: {cpu_used:.1f} s, {1000 * cpu_used / stats.audience:.2f} ms per message"
    )
    print(
        f"  whole machine: {busy / elapsed:.2f} of {os.cpu_count()} cores busy "
        f"({1000 * busy / stats.audience:.2f} ms of CPU per message, every process)"
    )
    if delaying is not None:
        counts = delaying.counters.snapshot()
        size = counts["octets"] // counts["messages"]
        print(
            f"  sinks: {counts['messages']:,} messages of {size:,} bytes on average, "
            f"{counts['connections']:,} connections, at most {counts['max_open']} open at once"
        )
        if args.postfix:
            reference = ("Postfix", postfix_reference(args, delaying, counts))
    if reference is not None:
        print(f"ratio to {reference[0]}: {rate / reference[1]:.2f}")


def postfix_reference(args: argparse.Namespace, sink, engine_counts: dict[str, int]) -> float:
    """Postfix relaying as many messages, of the engine's average size, to the same sinks."""
    from bench.bench_smtp import build_message
    from bench.postfix_peer import relay_rate

    domains = [f"d{i:02}.example" for i in range(args.domains)]
    routes = dict(zip(domains, ((a, sink.port) for a in mx_addresses(args)), strict=True))
    recipients = [f"user{n}@{domains[n % len(domains)]}" for n in range(args.recipients)]
    data = build_message(engine_counts["octets"] // engine_counts["messages"])
    print(
        f"postfix: {len(recipients):,} messages of {len(data):,} bytes through a private Postfix …"
    )
    sink.counters.restart_max_open()
    rate = relay_rate(routes, recipients, data, received=lambda: sink.counters.messages)
    print(
        f"  {rate:,.0f} messages/s, first submission to the last received by the sinks; "
        f"at most {sink.counters.max_open} sessions open at once"
    )
    return rate


if __name__ == "__main__":
    main()
