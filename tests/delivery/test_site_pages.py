"""The Delivery pages: sites with their limits and live state, overrides, presets, queues."""

from __future__ import annotations

import re
import time

import django_rq
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rq import Worker

from delivery.dispatch import throttle
from delivery.limits import Rate
from delivery.models import Batch, SiteSetting, SiteStats
from delivery.presets import PRESETS
from delivery.sites import site_config
from delivery.smtp import TlsPolicy
from edm import queues
from tests.factories import make_campaign, make_list

pytestmark = pytest.mark.django_db


def page(client, url: str, params=None) -> str:
    response = client.get(url, params or {})
    assert response.status_code == 200
    return response.content.decode()


def site_row(html: str, site: str) -> str:
    return html[html.index(f'data-site="{site}"') :].split("</tr>")[0]


def cells(row: str) -> list[str]:
    """The text of each cell, tags and surrounding blanks removed."""
    texts = [
        re.sub(r"<[^>]+>", " ", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    return [re.sub(r"\s+", " ", text).replace(" ,", ",").strip() for text in texts]


def seen(campaign, site: str, **counters) -> SiteStats:
    return SiteStats.objects.create(campaign=campaign, site=site, **counters)


def batches(campaign, site: str, **by_state: int) -> None:
    for state, n in by_state.items():
        for _ in range(n):
            Batch.objects.create(campaign=campaign, site=site, state=state, size=200)


def test_sites_show_preset_limits_batches_and_totals(admin_client, redis_db):
    spring, summer = make_campaign(lists=[make_list()]), make_campaign(lists=[make_list("B")])
    seen(spring, "google.com", sent=120, deferred=3, last_reply="250 2.0.0 OK", last_code=250)
    seen(summer, "google.com", sent=80, bounced=2, queued=400)
    seen(spring, "qq.com", sent=5)
    batches(summer, "google.com", pending=2, queued=1, running=1, done=3)
    SiteSetting.objects.create(site="mx.shop.example", rate="10/min")

    html = page(admin_client, reverse("delivery:delivery_index"))

    google = cells(site_row(html, "google.com"))
    assert google[0] == "google.com Google preset"
    assert google[1] == "normal"
    assert google[2:7] == ["0 / 5", "50", "no limit", "opportunistic", "2 / 1 / 1"]
    assert google[7:11] == ["200", "3", "2", "0"]
    assert cells(site_row(html, "qq.com"))[2:5] == ["0 / 3", "10", "120/min"]
    configured = cells(site_row(html, "mx.shop.example"))
    assert configured[0] == "mx.shop.example defaults + overrides"
    assert configured[4] == "10/min"
    assert html.index('data-site="google.com"') < html.index('data-site="qq.com"')  # busiest first
    detail = page(admin_client, reverse("delivery:site_detail", args=["google.com"]))
    assert "250 2.0.0 OK" in detail


def test_the_sites_page_costs_the_same_queries_for_many_sites(admin_client, redis_db):
    campaign = make_campaign(lists=[make_list()])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            page(admin_client, reverse("delivery:delivery_index"))
        return len(captured)

    seen(campaign, "a.example", sent=1)
    batches(campaign, "a.example", pending=1)
    SiteSetting.objects.create(site="a.example", max_connections=2)
    few = queries()
    for i in range(30):
        seen(campaign, f"site{i}.example", sent=i, last_reply=f"250 ok {i}")
        batches(campaign, f"site{i}.example", pending=1, running=1)
        SiteSetting.objects.create(site=f"site{i}.example", max_connections=3)

    assert queries() == few


def test_editing_a_site_changes_the_limits_the_engine_uses(admin_client, redis_db):
    url = reverse("delivery:site_detail", args=["qq.com"])
    assert site_config("qq.com").limits.max_connections == 3  # the QQ preset

    response = admin_client.post(
        url,
        {
            "max_connections": "2",
            "messages_per_connection": "5",
            "rate": " 30 / minute ",
            "tls_policy": "required",
        },
    )

    assert response.url == url
    config = site_config("qq.com")
    assert config.limits.max_connections == 2
    assert config.limits.messages_per_connection == 5
    assert config.limits.rate == Rate(30, 60)
    assert config.tls_policy is TlsPolicy.REQUIRED
    html = page(admin_client, url)
    assert re.search(r'data-limit="rate">30/min<', html)
    assert re.search(r'data-limit="tls_policy">required<', html)
    assert 'value="30/min"' in html

    admin_client.post(url, {"max_connections": "", "rate": "", "tls_policy": ""})

    assert not SiteSetting.objects.exists()
    assert site_config("qq.com").limits == next(p.limits for p in PRESETS if "qq.com" in p.sites)


def test_overrides_that_cannot_be_used_are_refused_with_the_reason(admin_client, redis_db):
    url = reverse("delivery:site_detail", args=["google.com"])
    for data, reason in [
        ({"rate": "fast"}, "is not a rate like"),
        ({"rate": "0/min"}, "A rate needs positive numbers"),
        ({"max_connections": "0"}, "greater than or equal to 1"),
        ({"messages_per_connection": "many"}, "Enter a whole number"),
        ({"tls_policy": "sometimes"}, "Select a valid choice"),
    ]:
        response = admin_client.post(url, data)
        assert response.status_code == 200, data
        assert reason in response.content.decode().replace("&#x27;", "'"), data
    assert not SiteSetting.objects.exists()


def test_site_addresses_are_read_as_domains(admin_client, redis_db):
    assert admin_client.get("/delivery/sites/QQ.com/").url == "/delivery/sites/qq.com/"
    assert admin_client.get("/delivery/sites/not_a_site!/").status_code == 404


def test_resume_now_ends_a_suspension_and_a_slow_down_in_redis(admin_client, redis_db):
    shop = make_campaign(lists=[make_list()])
    seen(shop, "mail.example", deferred=40)
    seen(shop, "google.com", sent=10)
    throttle().suspend("mail.example", 600, reason="all MX hosts refused the connection")
    throttle().slow_down("google.com", reason="421 4.7.28 Our system has detected an unusual rate")

    html = page(admin_client, reverse("delivery:delivery_index"))
    suspended = cells(site_row(html, "mail.example"))
    assert suspended[1].startswith("suspended until")
    assert "all MX hosts refused the connection" in suspended[1]
    assert "Resume now" in site_row(html, "mail.example")
    slowed = cells(site_row(html, "google.com"))
    assert slowed[1].startswith("slowed at 1/2 pace")
    assert slowed[2:5] == ["0 / 2 of 5", "50", "no limit"]  # Google has no fixed rate to halve
    assert html.index('data-site="mail.example"') < html.index("</table>")

    response = admin_client.post(reverse("delivery:site_resume", args=["mail.example"]))
    admin_client.post(reverse("delivery:site_resume", args=["google.com"]), {"back": "site"})

    assert response.url == reverse("delivery:delivery_index")
    config = site_config("mail.example")
    assert throttle().state("mail.example", config.limits).status == "normal"
    assert throttle().state("google.com", site_config("google.com").limits).slow_level == 0
    html = page(admin_client, reverse("delivery:delivery_index"))
    assert "Resume now" not in html
    assert cells(site_row(html, "mail.example"))[1] == "normal"


def test_a_site_page_explains_a_suspension_and_resumes_it(admin_client, redis_db):
    throttle().suspend("mx.shop.example", 300, reason="connection refused")
    url = reverse("delivery:site_detail", args=["mx.shop.example"])

    html = page(admin_client, url)
    assert "none of its hosts accepted one" in html
    assert "connection refused" in html

    response = admin_client.post(
        reverse("delivery:site_resume", args=["mx.shop.example"]), {"back": "site"}
    )

    assert response.url == url
    assert "Resume now" not in page(admin_client, url)


def test_presets_page_lists_every_provider_with_its_limits(admin_client, redis_db):
    SiteSetting.objects.create(site="163.com", max_connections=1)

    html = page(admin_client, reverse("delivery:site_presets"))

    for provider in ("Google", "Microsoft", "Yahoo", "Apple", "QQ", "NetEase", "Sina", "Sohu"):
        assert provider in html
    assert "Aliyun" in html
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1], re.S)
    by_provider = {cells(row)[0]: cells(row) for row in rows}
    assert by_provider["Google"][1:6] == ["google.com, googlemail.com", "5", "50", "no limit", "10"]
    assert by_provider["Every other site (defaults)"][2:5] == ["5", "100", "no limit"]
    netease = next(row for name, row in by_provider.items() if name.startswith("NetEase"))
    assert netease[6] == "163.com"


def test_search_offers_to_configure_a_site_not_seen_yet(admin_client, redis_db):
    html = page(admin_client, reverse("delivery:delivery_index"), {"q": "Sina.com"})

    assert "No site named sina.com yet" in html
    assert reverse("delivery:site_detail", args=["sina.com"]) in html
    assert "Sina preset" in page(admin_client, reverse("delivery:site_detail", args=["sina.com"]))


def test_the_outbox_is_linked_in_capture_mode_only(admin_client, redis_db, settings):
    settings.EDM_DELIVERY_MODE = "capture"
    assert reverse("delivery:outbox") in page(admin_client, reverse("delivery:delivery_index"))

    settings.EDM_DELIVERY_MODE = "mx"
    assert reverse("delivery:outbox") not in page(admin_client, reverse("delivery:delivery_index"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rq_worker", [(queues.TRANSACTIONAL,)], indirect=True)
def test_delivery_page_shows_queue_depths_and_the_workers_alive(admin_client, rq_worker):
    imports = django_rq.get_queue(queues.IMPORTS)
    for _ in range(3):
        imports.enqueue("delivery.jobs.inbound_expire")
    connection_ = django_rq.get_connection(queues.DEFAULT)
    deadline = time.monotonic() + 60
    while not Worker.all(connection=connection_) and time.monotonic() < deadline:
        time.sleep(0.2)

    html = page(admin_client, reverse("delivery:delivery_index"))

    depth = html[html.index('data-queue="imports"') :].split("</div>")[0]
    assert '<span class="value">3</span>' in depth
    assert "1 alive" in html
    [worker] = Worker.all(connection=connection_)
    assert worker.name in html
    assert "transactional" in html[html.index(worker.name) :].split("</tr>")[0]
