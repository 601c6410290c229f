"""Segments against a Python oracle: every condition, and random AND/OR trees of them, select
exactly the contacts that a plain reading of the definition does, on generated data full of
values that are not what they seem (numbers in text, dates that are not, odd attribute names).

Run on SQLite and on PostgreSQL (DATABASE_URL): JSON and text comparisons differ between them.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.utils import timezone

from campaigns.models import Contact, Membership
from campaigns.segments.definition import parse
from campaigns.selectors.segments import segment_contacts, segment_count
from delivery.models import Delivery
from tests.factories import make_campaign, make_contact, make_list

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
ODD_KEY = 'it\'s "odd".key; -- $x'
CITIES = ["Berlin", "berlin", "New Berlin", "Shanghai", "上海", "São Paulo", ""]
AGES = ["42", 42, 17, "17.5", 3.25, "-3", "+8", "abc", "", "1e3", True, "12\n", " 7", 0]
DATES = ["2024-05-01", "2024-05-01T10:00:00", "2023-12-31", "2025-01-15", "not a date"]
DATES += ["2024-13-01", 20240501, "", "2024-05-02"]
DOMAINS = ["example.com", "shop.example", "bücher.example"]
STATUSES = ["enabled"] * 6 + ["unsubscribed", "bounced", "complained", "blocklisted"]
DELIVERY_STATUSES = ["sent"] * 5 + ["complained", "bounced", "failed", "deferred", "queued"]


@pytest.fixture
def world():
    """160 contacts with random attributes, lists and deliveries (a fixed seed)."""
    rng = random.Random(20261204)
    lists = [make_list(f"List {n}") for n in range(3)]
    campaigns = [make_campaign(lists=lists[:1], name=f"Campaign {n}") for n in range(3)]
    for i in range(160):
        attributes = {}
        keyed = [("city", CITIES), ("age", AGES), ("joined", DATES), (ODD_KEY, CITIES)]
        # "7": Django's own key lookups read a numeric name as an array index on PostgreSQL.
        keyed.append(("7", AGES))
        for key, values in keyed:
            if rng.random() < 0.75:
                attributes[key] = rng.choice(values)
        if rng.random() < 0.4:
            attributes["vip"] = rng.choice([None, "", True, "yes"])
        contact = make_contact(
            f"p{i}@{rng.choice(DOMAINS)}",
            attributes=attributes,
            status=rng.choice(STATUSES),
            created_at=NOW - dt.timedelta(days=rng.randrange(400), seconds=rng.randrange(86400)),
        )
        for contact_list in lists:
            if rng.random() < 0.5:
                status = "subscribed" if rng.random() < 0.8 else "unsubscribed"
                Membership.objects.create(list=contact_list, contact=contact, status=status)
        for campaign in campaigns:
            if rng.random() < 0.6:
                status = rng.choice(DELIVERY_STATUSES)
                opened = clicked = None
                if status in ("sent", "complained") and rng.random() < 0.5:
                    opened = NOW - dt.timedelta(days=rng.randrange(200), hours=rng.randrange(24))
                    if rng.random() < 0.5:
                        clicked = opened + dt.timedelta(minutes=5)
                Delivery.objects.create(
                    campaign=campaign,
                    contact=contact,
                    email=contact.email,
                    domain=contact.domain,
                    status=status,
                    opened_at=opened,
                    clicked_at=clicked,
                )
    return lists, campaigns


class Oracle:
    """The definition read plainly, in Python, over rows loaded without any segment code."""

    def __init__(self):
        self.contacts = list(Contact.objects.all())
        self.memberships = {(m.contact_id, m.list_id): m.status for m in Membership.objects.all()}
        self.deliveries: dict[int, list[Delivery]] = {}
        for d in Delivery.objects.all():
            self.deliveries.setdefault(d.contact_id, []).append(d)

    def select(self, definition: dict) -> set[int]:
        return {c.pk for c in self.contacts if self.group(definition, c)}

    def group(self, group: dict, contact: Contact) -> bool:
        results = [
            self.group(node, contact) if "conditions" in node else self.condition(node, contact)
            for node in group["conditions"]
        ]
        if not results:
            return True
        return all(results) if group.get("match", "all") == "all" else any(results)

    def condition(self, c: dict, contact: Contact) -> bool:
        field, op, value = c["field"], c["op"], c.get("value")
        if field == "attribute":
            return attribute_test(contact.attributes, c["key"], op, value)
        if field == "status":
            return (contact.status == value) == (op == "is")
        if field == "list":
            status = self.memberships.get((contact.pk, value))
            if op == "member_of":
                return status is not None
            if op == "subscribed_to":
                return status == "subscribed"
            return status is None
        if field == "created":
            if op == "within_days":
                return contact.created_at >= NOW - dt.timedelta(days=value)
            day = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
            if op == "before":
                return contact.created_at < day
            return contact.created_at >= day + dt.timedelta(days=1)
        if field == "domain":
            return contact.domain == value if op == "equals" else contact.domain in value
        deliveries = self.deliveries.get(contact.pk, [])
        received = [d for d in deliveries if d.status in ("sent", "complained")]
        if field in ("opened", "clicked"):
            at = "opened_at" if field == "opened" else "clicked_at"
            engaged = [d for d in deliveries if getattr(d, at) is not None]
            if op == "any":
                return bool(engaged)
            if op == "campaign":
                return any(d.campaign_id == value for d in engaged)
            if op == "never":
                return bool(received) and not engaged
            since = NOW - dt.timedelta(days=value)
            return bool(received) and not any(getattr(d, at) >= since for d in engaged)
        mine = [d for d in deliveries if d.campaign_id == value]
        if op == "failed":
            return any(d.status == "failed" for d in mine)
        got = [d for d in mine if d.status in ("sent", "complained")]
        if op == "not_opened":
            return any(d.opened_at is None for d in got)
        if op == "not_clicked":
            return any(d.clicked_at is None for d in got)
        return bool(got)


def text_form(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


NUMBER = re.compile(r"[-+]?[0-9]{1,250}(\.[0-9]{1,250})?")
DATE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")


def attribute_test(attributes: dict, key: str, op: str, value) -> bool:
    raw = attributes.get(key)
    text = text_form(raw)
    if op == "is_set":
        return bool(text)
    if op == "is_not_set":
        return not text
    if text is None:
        return False
    if op == "equals":
        return text == value
    if op == "one_of":
        return text in value
    if op == "contains":
        return value.lower() in text.lower()  # the test's needles and data fold alike (A–Z)
    if op == "between":
        if isinstance(raw, bool):
            return False
        if not (isinstance(raw, int | float) or NUMBER.fullmatch(raw)):
            return False
        number = float(raw)
        return value.get("min", -1e308) <= number <= value.get("max", 1e308)
    if not isinstance(raw, str) or not DATE.match(raw):
        return False
    return raw[:10] < value if op == "before" else raw[:10] > value


def every_condition(lists, campaigns) -> list[dict]:
    """At least one condition of every field and operator, with values that split the data."""
    a = "attribute"
    conditions = [
        {"field": a, "key": "city", "op": "equals", "value": "Berlin"},
        {"field": a, "key": "city", "op": "equals", "value": "上海"},
        {"field": a, "key": ODD_KEY, "op": "equals", "value": "São Paulo"},
        {"field": a, "key": "age", "op": "equals", "value": "42"},
        {"field": a, "key": "age", "op": "equals", "value": "true"},
        {"field": a, "key": "city", "op": "contains", "value": "BERLIN"},
        {"field": a, "key": "city", "op": "contains", "value": "a"},
        {"field": a, "key": ODD_KEY, "op": "contains", "value": "海"},
        {"field": a, "key": "city", "op": "one_of", "value": ["Shanghai", "上海", "nowhere"]},
        {"field": a, "key": "age", "op": "one_of", "value": ["17", "3.25", "abc"]},
        {"field": a, "key": "age", "op": "between", "value": {"min": 10, "max": 42}},
        {"field": a, "key": "age", "op": "between", "value": {"min": 17.5}},
        {"field": a, "key": "age", "op": "between", "value": {"max": 0}},
        {"field": a, "key": "joined", "op": "before", "value": "2024-05-01"},
        {"field": a, "key": "joined", "op": "after", "value": "2024-05-01"},
        {"field": a, "key": "joined", "op": "before", "value": "2025-01-01"},
        {"field": a, "key": "city", "op": "is_set"},
        {"field": a, "key": "vip", "op": "is_not_set"},
        {"field": a, "key": ODD_KEY, "op": "is_set"},
        {"field": a, "key": "7", "op": "between", "value": {"min": 1, "max": 20}},
        {"field": a, "key": "7", "op": "equals", "value": "abc"},
        {"field": "status", "op": "is", "value": "enabled"},
        {"field": "status", "op": "is_not", "value": "enabled"},
        {"field": "status", "op": "is", "value": "bounced"},
        {"field": "created", "op": "before", "value": "2026-01-01"},
        {"field": "created", "op": "after", "value": "2025-12-01"},
        {"field": "created", "op": "within_days", "value": 30},
        {"field": "domain", "op": "equals", "value": "Shop.Example"},
        {"field": "domain", "op": "one_of", "value": ["bücher.example", "xn--nowhere-0ya.example"]},
        {"field": "opened", "op": "any"},
        {"field": "opened", "op": "never"},
        {"field": "opened", "op": "not_in_last_days", "value": 60},
        {"field": "clicked", "op": "any"},
    ]
    for contact_list in lists:
        for op in ("member_of", "subscribed_to", "not_member_of"):
            conditions.append({"field": "list", "op": op, "value": contact_list.pk})
    for campaign in campaigns:
        conditions.append({"field": "opened", "op": "campaign", "value": campaign.pk})
        conditions.append({"field": "clicked", "op": "campaign", "value": campaign.pk})
        for op in ("campaign", "not_opened", "not_clicked", "failed"):
            conditions.append({"field": "received", "op": op, "value": campaign.pk})
    return conditions


def normalized(condition: dict) -> dict:
    """The condition as parsing stores it (domains in their normal form), for the oracle."""
    if condition["field"] == "domain":
        value = condition["value"]
        lower = [v.lower() for v in value] if isinstance(value, list) else value.lower()
        return condition | {"value": lower}
    return condition


def selected(definition: dict) -> set[int]:
    return set(segment_contacts(parse(definition), now=NOW).values_list("pk", flat=True))


def test_every_condition_selects_what_the_oracle_selects(world):
    oracle = Oracle()
    for condition in every_condition(*world):
        expected = oracle.select({"match": "all", "conditions": [normalized(condition)]})
        assert selected({"match": "all", "conditions": [condition]}) == expected, condition
        # Each condition splits the data, so a wrong one could not pass by matching all/none.
        assert 0 < len(expected) < len(oracle.contacts), condition


def test_random_and_or_trees_select_what_the_oracle_selects(world):
    oracle = Oracle()
    pool = [normalized(c) for c in every_condition(*world)]
    rng = random.Random(7)

    def tree(depth: int) -> dict:
        nodes = []
        for _ in range(rng.randint(1, 4)):
            if depth < 3 and rng.random() < 0.3:
                nodes.append(tree(depth + 1))
            else:
                nodes.append(rng.choice(pool))
        return {"match": rng.choice(["all", "any"]), "conditions": nodes}

    sizes = set()
    for _ in range(60):
        definition = tree(1)
        expected = oracle.select(definition)
        assert selected(definition) == expected, definition
        sizes.add(len(expected))
    assert len(sizes) > 10  # the trees select many different audiences, not all or nothing


def test_an_empty_definition_selects_every_contact(world):
    assert selected({"match": "any", "conditions": []}) == set(
        Contact.objects.values_list("pk", flat=True)
    )


def test_counting_a_segment_is_one_query(world, django_assert_num_queries):
    lists, campaigns = world
    definition = {
        "match": "any",
        "conditions": [
            {"field": "attribute", "key": "age", "op": "between", "value": {"min": 10}},
            {
                "match": "all",
                "conditions": [
                    {"field": "list", "op": "subscribed_to", "value": lists[0].pk},
                    {"field": "received", "op": "not_opened", "value": campaigns[0].pk},
                    {"field": "opened", "op": "not_in_last_days", "value": 30},
                    {"field": "domain", "op": "one_of", "value": ["example.com"]},
                ],
            },
        ],
    }
    group = parse(definition)
    expected = len(Oracle().select(definition))
    with django_assert_num_queries(1):
        assert segment_count(group, now=NOW) == expected


def test_relative_conditions_are_counted_from_the_time_given(world):
    definition = {
        "match": "all",
        "conditions": [{"field": "created", "op": "within_days", "value": 1}],
    }
    group = parse(definition)
    assert segment_count(group, now=NOW + dt.timedelta(days=1000)) == 0
    assert (
        segment_count(group, now=NOW)
        == Contact.objects.filter(created_at__gte=NOW - dt.timedelta(days=1)).count()
    )
    assert timezone.now() > NOW  # "now" by default: nothing was created in the last day
    assert segment_count(group) == 0
