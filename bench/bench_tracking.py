"""The tracking endpoints under load: gunicorn as deployed, wrk, events recorded by a worker.

Makes a sent campaign of 20,000 deliveries (PostgreSQL), starts gunicorn with
deploy/gunicorn.conf.py (its worker count, threads) on a loopback port and one RQ worker
(`manage.py rqworker default`, which runs the engagement recorder), then drives each endpoint
with wrk for `--seconds`, every request a different delivery's token (a Lua script cycles
through them). It prints wrk's requests/s and latency percentiles, then how long after the
load ended the last event was recorded (EngagementStats adds up to every request wrk made).

    createdb -h 127.0.0.1 -U postgres edm_bench_tracking
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edm_bench_tracking \\
        .venv/bin/python bench/bench_tracking.py [--seconds 20] [--connections 64]

The database's name must start with "edm_bench": the data step empties its tables. Needs
Debian's `wrk` (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
DELIVERIES = 20_000
PORT = 8765


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=64)
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.rsplit("/", 1)[-1].startswith("edm_bench"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name starts with edm_bench.")
    if shutil.which("wrk") is None:
        sys.exit("Needs wrk: apt-get install wrk")
    from bench_dashboard import embedded_redis_server

    with embedded_redis_server() as redis_url:
        os.environ["REDIS_URL"] = redis_url
        os.environ["EDM_PUBLIC_URL"] = f"http://127.0.0.1:{PORT}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edm.settings")
        os.environ.setdefault("SECRET_KEY", "bench-tracking-secret")
        os.environ["DEBUG"] = "false"
        os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
        import django

        django.setup()
        run(options)


def make_campaign():
    """A finished campaign sent an hour ago to DELIVERIES contacts, its links stored."""
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign, Contact
    from delivery.engagement.links import links_store
    from delivery.models import Delivery, EngagementStats

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE campaigns_contact, campaigns_campaign, delivery_delivery CASCADE")
    sent_at = timezone.now() - dt.timedelta(hours=1)
    campaign = Campaign.objects.create(
        name="Bench", from_email="news@shop.example", status="finished", started_at=sent_at
    )
    Contact.objects.bulk_create(
        [
            Contact(
                email=f"p{i}@site{i % 50}.example",
                email_key=f"p{i}@site{i % 50}.example",
                domain=f"site{i % 50}.example",
            )
            for i in range(DELIVERIES)
        ],
        batch_size=5000,
    )
    contacts = Contact.objects.order_by("pk").values_list("pk", "email", "domain")
    Delivery.objects.bulk_create(
        [
            Delivery(
                campaign=campaign,
                contact_id=pk,
                email=email,
                domain=domain,
                site=domain,
                status="sent",
                sent_at=sent_at,
            )
            for pk, email, domain in contacts
        ],
        batch_size=5000,
    )
    links_store(campaign.pk, [f"https://shop.example/page{i}" for i in range(1, 6)])
    EngagementStats.objects.filter(campaign=campaign).delete()
    return campaign


def lua_script(paths: list[str], directory: Path) -> Path:
    """A wrk script that sends each request to the next path of `paths`."""
    script = directory / "paths.lua"
    listed = ",\n".join(f'"{p}"' for p in paths)
    script.write_text(
        f"local paths = {{\n{listed}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n"
        '  return wrk.format("GET", paths[i], {["User-Agent"] = "Mozilla/5.0 (X11; Linux '
        'x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"})\nend\n'
    )
    return script


def run(options: argparse.Namespace) -> None:
    from django.conf import settings
    from django.db.models import Sum

    from delivery.engagement.tokens import Mark, click_token, open_token
    from delivery.models import Delivery, EngagementStats
    from edm.redis import connection as redis_connection

    campaign = make_campaign()
    ids = list(Delivery.objects.filter(campaign=campaign).values_list("pk", flat=True))
    secret = settings.SECRET_KEY
    clicks = [f"/l/{click_token(Mark(campaign.pk, d, 1 + d % 5), secret)}" for d in ids]
    opens = [f"/o/{open_token(Mark(campaign.pk, d), secret)}.gif" for d in ids]
    workdir = Path(tempfile.mkdtemp(prefix="edm-bench-tracking-"))
    env = {**os.environ, "EDM_BIND": f"127.0.0.1:{PORT}"}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "edm.wsgi", "-c", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "rqworker", "default"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up()
        load = os.getloadavg()
        print(
            f"{len(ids):,} deliveries; gunicorn {gunicorn_workers()} workers × 2 threads "
            f"(deploy/gunicorn.conf.py), wrk -t2 -c{options.connections} -d{options.seconds}s; "
            f"{os.cpu_count()} CPUs, load average before {load[0]:.1f}"
        )
        made = 0
        for name, paths in (("click /l/", clicks), ("pixel /o/", opens)):
            script = str(lua_script(paths, workdir))
            # Warm every gunicorn worker (links cache, connections); its requests are events too.
            warm = wrk(["-t2", "-c16", "-d2s", "-s", script])
            output = wrk(
                [
                    "-t2",
                    f"-c{options.connections}",
                    f"-d{options.seconds}s",
                    "--latency",
                    "-s",
                    script,
                ]
            )
            ended = time.monotonic()
            requests = int(re.search(r"(\d+) requests in", output).group(1))
            made += requests + int(re.search(r"(\d+) requests in", warm).group(1))
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
            latency = dict(re.findall(r"\s+(50|75|90|99)%\s+(\S+)", output))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", output)
            print(
                f"{name:<10} {rate:>8,.0f} req/s  p50 {latency['50']:>8}  p90 {latency['90']:>8}"
                f"  p99 {latency['99']:>8}  ({requests:,} requests"
                f"{', ' + errors.group(0) if errors else ''})"
            )
            recorded = recorded_events(EngagementStats, Sum, campaign, made)
            print(
                f"{'':<10} all {recorded:,} events so far recorded "
                f"{time.monotonic() - ended:.1f} s after the load ended"
            )
        print(f"events left in Redis: {redis_connection().llen('edm:engagement:events')}")
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # RQ's warm shutdown waits for its job
                process.kill()
                process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def wrk(arguments: list[str]) -> str:
    return subprocess.run(
        ["wrk", *arguments, f"http://127.0.0.1:{PORT}"], check=True, capture_output=True, text=True
    ).stdout


def recorded_events(model, total, campaign, expected: int) -> int:
    """The campaign's recorded events, once they reach `expected` and Redis holds none (wrk
    counts only answered requests: the last ones in flight are events too), or after two
    minutes."""
    from edm.redis import connection as redis_connection

    fields = ("opens", "clicks", "opens_machine", "clicks_bot")
    deadline = time.monotonic() + 120
    while True:
        sums = model.objects.filter(campaign=campaign).aggregate(**{f: total(f) for f in fields})
        counted = sum(v or 0 for v in sums.values())
        drained = redis_connection().llen("edm:engagement:events") == 0
        if (counted >= expected and drained) or time.monotonic() > deadline:
            return counted
        time.sleep(0.1)


def gunicorn_workers() -> int:
    import multiprocessing

    return int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))


def wait_until_up() -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer")


if __name__ == "__main__":
    main()
