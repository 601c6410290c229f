"""Contact list pages at a million members: server time (median of 10) per page.

Uses the data of bench/bench_dashboard.py (its 1,000,000 contacts on one list), so run that
once first; each page is requested through Django's test client after 3 warm-up requests.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/edm_bench_dashboard \\
        .venv/bin/python bench/bench_list_pages.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    if "edm_bench" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("Set DATABASE_URL to the PostgreSQL database bench_dashboard.py filled.")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edm.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.test import Client

    from campaigns.models import ContactList

    user, _ = get_user_model().objects.get_or_create(
        username="bench-lists", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    big = ContactList.objects.annotate(n=Count("memberships")).order_by("-n").first()
    print(f"list {big.pk}: {big.n:,} members")
    pages = {
        "lists overview": "/lists/",
        "list detail": f"/lists/{big.pk}/",
        "contacts, first page": f"/lists/{big.pk}/contacts/",
        "email prefix search": f"/lists/{big.pk}/contacts/?q=user5",
        "status filter": f"/lists/{big.pk}/contacts/?status=unsubscribed",
    }
    for name, url in pages.items():
        for _ in range(3):
            response = client.get(url)
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code}")
        times = []
        for _ in range(10):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name:24} median {statistics.median(times):7.1f} ms")


if __name__ == "__main__":
    main()
