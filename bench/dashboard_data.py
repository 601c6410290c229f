"""Test data for bench/bench_dashboard.py, made with set-based SQL on PostgreSQL.

One campaign in the middle of sending to 1,000,000 contacts (deliveries in every status,
100,000 attempts, 5,000 batches, per-site and per-minute counters made from the deliveries
the way the engine keeps them), plus 300 finished campaigns with their counters, a few
scheduled, paused and draft ones. Every domain and site ends in `.example`.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

BIG_CAMPAIGN = "Bench: autumn sale"
DELIVERIES = 1_000_000
ATTEMPTS = 100_000
FINISHED_CAMPAIGNS = 300
SENDING_HOURS = 20  # the big campaign started this long ago

# Each statement is run once, in order; %(name)s are parameters.
STEPS = [
    (
        "list",
        """
        INSERT INTO campaigns_contactlist (name, description, created_at)
        VALUES ('Bench customers', '', now())
        """,
    ),
    (
        "contacts",
        # 40 % of people on bigmail.example, 20 % on webmail.example, 10 % on corp.example,
        # the rest on 2,000 small domains, each its own site.
        """
        INSERT INTO campaigns_contact (email, email_key, domain, name, attributes, status,
                                       created_at, updated_at)
        SELECT 'person' || g || '@' || d, 'person' || g || '@' || d, d, 'Person ' || g,
               '{}'::jsonb, 'enabled', now(), now()
        FROM generate_series(1, %(n)s) AS g,
        LATERAL (SELECT CASE WHEN g %% 100 < 40 THEN 'bigmail.example'
                             WHEN g %% 100 < 60 THEN 'webmail.example'
                             WHEN g %% 100 < 70 THEN 'corp.example'
                             ELSE 'small' || (g %% 2000) || '.example' END AS d) AS domain
        """,
    ),
    (
        "memberships",
        """
        INSERT INTO campaigns_membership (list_id, contact_id, status, created_at, updated_at)
        SELECT (SELECT max(id) FROM campaigns_contactlist), id, 'subscribed', now(), now()
        FROM campaigns_contact
        """,
    ),
    (
        "campaigns",
        """
        INSERT INTO campaigns_campaign (name, status, from_name, from_email, reply_to, subject,
            html, text, time_zone, retry_window, created_at, updated_at, started_at,
            finished_at, scheduled_at)
        SELECT 'Bench: newsletter ' || g, 'finished', 'Shop', 'news@shop.example', '',
            'Newsletter ' || g, '<p>Hi</p>', '', 'UTC', interval '3 days',
            now() - (g || ' hours')::interval, now() - (g || ' hours')::interval,
            now() - (g || ' hours')::interval, now() - ((g - 1) || ' hours')::interval, NULL
        FROM generate_series(%(finished)s + 1, 2, -1) AS g
        UNION ALL
        SELECT 'Bench: scheduled ' || g, 'scheduled', 'Shop', 'news@shop.example', '',
            'Later ' || g, '<p>Hi</p>', '', 'UTC', interval '3 days', now(), now(), NULL, NULL,
            now() + (g || ' days')::interval
        FROM generate_series(1, 3) AS g
        UNION ALL
        SELECT 'Bench: draft ' || g, 'draft', 'Shop', 'news@shop.example', '', 'Draft ' || g,
            '<p>Hi</p>', '', 'UTC', interval '3 days', now(), now(), NULL, NULL, NULL
        FROM generate_series(1, 2) AS g
        UNION ALL
        SELECT %(big)s, 'sending', 'Shop', 'news@shop.example', '', 'Autumn sale', '<p>Hi</p>',
            '', 'UTC', interval '3 days', now() - %(hours)s * interval '1 hour',
            now() - %(hours)s * interval '1 hour', now() - %(hours)s * interval '1 hour', NULL, NULL
        """,
    ),
    (
        "campaign lists",
        """
        INSERT INTO campaigns_campaign_lists (campaign_id, contactlist_id)
        SELECT c.id, (SELECT max(id) FROM campaigns_contactlist) FROM campaigns_campaign c
        """,
    ),
    (
        "batches",
        # 200 deliveries each; the first 4,000 done, 5 running, 20 queued, the rest pending.
        """
        INSERT INTO delivery_batch (campaign_id, site, state, size, runs, created_at,
                                    not_before, heartbeat_at, finished_at)
        SELECT (SELECT id FROM campaigns_campaign WHERE name = %(big)s), 'bigmail.example',
            CASE WHEN g <= 4000 THEN 'done' WHEN g <= 4005 THEN 'running'
                 WHEN g <= 4025 THEN 'queued' ELSE 'pending' END,
            200, CASE WHEN g <= 4005 THEN 1 ELSE 0 END, now() - %(hours)s * interval '1 hour',
            NULL, CASE WHEN g <= 4005 THEN now() END, CASE WHEN g <= 4000 THEN now() END
        FROM generate_series(1, %(n)s / 200) AS g
        """,
    ),
    (
        "deliveries",
        # The status of contact g comes from h = g * 7919 mod 1000 (spread evenly):
        # 800 sent, 100 queued, 30 deferred, 25 hard and 15 soft bounces, 10 failed,
        # 3 complained, 17 sent.
        """
        INSERT INTO delivery_delivery (campaign_id, contact_id, email, domain, site, batch_id,
            status, attempts, next_attempt_at, last_code, last_enhanced, last_reply, reason,
            hard, sent_at, updated_at)
        SELECT c.campaign_id, ct.id, ct.email, ct.domain,
            CASE WHEN ct.domain LIKE 'small%%' THEN 'mx.' || ct.domain ELSE ct.domain END,
            b.first_batch + (ct.id - c.first_contact) / 200,
            s.status,
            CASE WHEN s.status = 'queued' THEN 0 ELSE 1 END,
            CASE WHEN s.status = 'deferred' THEN now() + interval '10 minutes' END,
            CASE s.status WHEN 'sent' THEN 250 WHEN 'complained' THEN 250 WHEN 'deferred' THEN 451
                          WHEN 'bounced' THEN 550 WHEN 'failed' THEN 451 END,
            CASE s.status WHEN 'deferred' THEN '4.7.0' WHEN 'bounced' THEN '5.1.1'
                          ELSE '' END,
            CASE s.status WHEN 'deferred' THEN 'Try again later'
                          WHEN 'bounced' THEN 'The email account that you tried to reach '
                                              || 'does not exist'
                          WHEN 'failed' THEN 'Try again later' ELSE '' END,
            s.reason, s.hard,
            CASE WHEN s.status IN ('sent', 'complained') THEN s.at END,
            CASE WHEN s.status = 'queued' THEN c.started_at ELSE s.at END
        FROM campaigns_contact ct,
        LATERAL (SELECT id AS campaign_id, started_at,
                        (SELECT min(id) FROM campaigns_contact) AS first_contact
                 FROM campaigns_campaign WHERE name = %(big)s) AS c,
        LATERAL (SELECT min(id) AS first_batch FROM delivery_batch) AS b,
        LATERAL (SELECT (ct.id * 7919) %% 1000 AS h) AS hh,
        LATERAL (SELECT
            CASE WHEN h < 800 THEN 'sent' WHEN h < 900 THEN 'queued' WHEN h < 930 THEN 'deferred'
                 WHEN h < 970 THEN 'bounced' WHEN h < 980 THEN 'failed'
                 WHEN h < 983 THEN 'complained' ELSE 'sent' END AS status,
            CASE WHEN h BETWEEN 930 AND 949 THEN 'userunknown'
                 WHEN h BETWEEN 950 AND 954 THEN 'hostunknown'
                 WHEN h BETWEEN 955 AND 962 THEN 'mailboxfull'
                 WHEN h BETWEEN 963 AND 966 THEN 'filtered'
                 WHEN h BETWEEN 967 AND 969 THEN 'blocked'
                 WHEN h BETWEEN 970 AND 979 THEN 'expired' ELSE '' END AS reason,
            CASE WHEN h BETWEEN 930 AND 954 THEN true
                 WHEN h BETWEEN 955 AND 969 THEN false END AS hard,
            -- the position of the contact in the audience spreads outcomes over the hours
            c.started_at + (ct.id - c.first_contact) * %(hours)s * interval '1 hour' / %(n)s
                AS at) AS s
        """,
    ),
    (
        "attempts",
        """
        INSERT INTO delivery_attempt (delivery_id, at, outcome, host, address, tls_version,
            tls_fallback, code, enhanced, text)
        SELECT d.id, d.updated_at,
            CASE WHEN d.status IN ('sent', 'complained') THEN 'sent'
                 WHEN d.status = 'failed' THEN 'deferred' ELSE d.status END,
            'mx1.' || d.site, '127.0.0.1', 'TLSv1.3', false, d.last_code, d.last_enhanced,
            CASE WHEN d.last_code = 250 THEN '2.0.0 OK queued as ' || d.id ELSE d.last_reply END
        FROM delivery_delivery d
        WHERE d.status <> 'queued' AND d.id %% (%(n)s / %(attempts)s * 8 / 10) = 0
        LIMIT %(attempts)s
        """,
    ),
    (
        "campaign stats",
        """
        INSERT INTO delivery_campaignstats (campaign_id, audience, queued, deferred, sent,
            bounced_hard, bounced_soft, failed, complained, cancelled, unsubscribed,
            sender_rejected, updated_at)
        SELECT campaign_id, count(*),
            count(*) FILTER (WHERE status = 'queued'),
            count(*) FILTER (WHERE status = 'deferred'),
            count(*) FILTER (WHERE status IN ('sent', 'complained')),
            count(*) FILTER (WHERE status = 'bounced' AND hard),
            count(*) FILTER (WHERE status = 'bounced' AND NOT hard),
            count(*) FILTER (WHERE status = 'failed'),
            count(*) FILTER (WHERE status = 'complained'),
            0, 1500,
            count(*) FILTER (WHERE reason = 'blocked'),
            now()
        FROM delivery_delivery GROUP BY campaign_id
        """,
    ),
    (
        "other campaign stats",
        # Finished newsletters of 20,000; every 50th has a complaint rate over 0.1 %.
        """
        INSERT INTO delivery_campaignstats (campaign_id, audience, queued, deferred, sent,
            bounced_hard, bounced_soft, failed, complained, cancelled, unsubscribed,
            sender_rejected, updated_at)
        SELECT id, 20000, 0, 0, 19500, 150, 250, 100,
            CASE WHEN id %% 50 = 0 THEN 40 ELSE 3 END, 0, 12, 0, finished_at
        FROM campaigns_campaign WHERE status = 'finished'
        """,
    ),
    (
        "site stats",
        """
        INSERT INTO delivery_sitestats (campaign_id, site, queued, deferred, sent, bounced,
            failed, last_code, last_reply, last_at)
        SELECT campaign_id, site,
            count(*) FILTER (WHERE status = 'queued'),
            count(*) FILTER (WHERE status = 'deferred'),
            count(*) FILTER (WHERE status IN ('sent', 'complained')),
            count(*) FILTER (WHERE status = 'bounced'),
            count(*) FILTER (WHERE status = 'failed'),
            250, '250 2.0.0 OK', max(updated_at)
        FROM delivery_delivery GROUP BY campaign_id, site
        """,
    ),
    (
        "reason stats",
        """
        INSERT INTO delivery_reasonstats (campaign_id, reason, hard, bounced)
        SELECT campaign_id, reason, hard, count(*) FROM delivery_delivery
        WHERE status = 'bounced' GROUP BY campaign_id, reason, hard
        """,
    ),
    (
        "minute stats",
        """
        INSERT INTO delivery_minutestats (campaign_id, minute, sent, deferred, bounced)
        SELECT campaign_id, date_trunc('minute', updated_at),
            count(*) FILTER (WHERE status IN ('sent', 'complained')),
            count(*) FILTER (WHERE status = 'deferred'),
            count(*) FILTER (WHERE status = 'bounced')
        FROM delivery_delivery WHERE status <> 'queued'
        GROUP BY campaign_id, date_trunc('minute', updated_at)
        """,
    ),
    (
        "other minute stats",
        # Each finished newsletter went out over its hour: 60 minutes of 325 messages.
        """
        INSERT INTO delivery_minutestats (campaign_id, minute, sent, deferred, bounced)
        SELECT c.id, date_trunc('minute', c.started_at) + m * interval '1 minute', 325, 2, 7
        FROM campaigns_campaign c, generate_series(0, 59) AS m
        WHERE c.status = 'finished'
        """,
    ),
]


def generated() -> bool:
    """Whether the data is already there (generating it takes a few minutes)."""
    from delivery.models import CampaignStats

    return CampaignStats.objects.filter(campaign__name=BIG_CAMPAIGN, audience=DELIVERIES).exists()


def generate(*, report=print) -> None:
    """Empty the tables this benchmark reads and fill them again."""
    params = {
        "n": DELIVERIES,
        "attempts": ATTEMPTS,
        "finished": FINISHED_CAMPAIGNS,
        "big": BIG_CAMPAIGN,
        "hours": SENDING_HOURS,
    }
    tables = [
        "delivery_attempt",
        "delivery_delivery",
        "delivery_batch",
        "delivery_minutestats",
        "delivery_sitestats",
        "delivery_campaignstats",
        "delivery_reasonstats",
        "campaigns_campaign_lists",
        "campaigns_campaign_exclusion_lists",
        "campaigns_campaign",
        "campaigns_membership",
        "campaigns_contact",
        "campaigns_contactlist",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        for name, sql in STEPS:
            started = timezone.now()
            cursor.execute(sql, params)
            seconds = (timezone.now() - started).total_seconds()
            report(f"  {name}: {cursor.rowcount:,} rows in {seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
