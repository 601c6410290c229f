"""Migration 0009_contact_email_key merges contacts that differ only in their address's case."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("campaigns", "0008_tracking_switches"), ("delivery", "0008_engagement")]


def migrate(targets):
    """Migrate to `targets` and return the apps (historical models) of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old_apps():
    """The database as it was before the key, brought forward again after the test."""
    latest = leaves()
    apps = migrate(BEFORE)
    yield apps
    migrate(latest)


def test_case_duplicates_are_merged_into_the_oldest_contact(old_apps, capsys):
    apps = old_apps
    Contact = apps.get_model("campaigns", "Contact")
    ContactList = apps.get_model("campaigns", "ContactList")
    Membership = apps.get_model("campaigns", "Membership")
    Campaign = apps.get_model("campaigns", "Campaign")
    Unsubscribe = apps.get_model("campaigns", "Unsubscribe")
    Suppression = apps.get_model("campaigns", "Suppression")
    Delivery = apps.get_model("delivery", "Delivery")
    BounceEvent = apps.get_model("delivery", "BounceEvent")

    early = timezone.now() - dt.timedelta(days=30)
    # Created later but with the earlier date: created_at decides, not the id.
    newer = Contact.objects.create(
        email="user7@sina.com",
        domain="sina.com",
        name="Newer",
        attributes={"city": "上海", "plan": "free"},
        status="bounced",
    )
    older = Contact.objects.create(
        email="USER7@sina.com",
        domain="sina.com",
        name="",
        attributes={"plan": "pro"},
        created_at=early,
    )
    third = Contact.objects.create(email="User7@sina.com", domain="sina.com")
    alone = Contact.objects.create(email="Other@sina.com", domain="sina.com")

    both, only_newer, only_older = (ContactList.objects.create(name=n) for n in "abc")
    Membership.objects.create(list=both, contact=older, status="subscribed")
    Membership.objects.create(list=both, contact=newer, status="unsubscribed")
    Membership.objects.create(list=only_newer, contact=newer)
    Membership.objects.create(list=only_older, contact=older)

    spring, autumn = (Campaign.objects.create(name=n, from_email="a@shop.example") for n in "sa")

    def delivery(campaign, contact):
        return Delivery.objects.create(
            campaign=campaign, contact=contact, email=contact.email, domain="sina.com"
        )

    kept = delivery(spring, older)
    detached = delivery(spring, newer)  # the campaign reached both spellings
    moved = delivery(autumn, newer)
    BounceEvent.objects.create(
        kind="bounce",
        source="mail",
        delivery=moved,
        campaign=autumn,
        contact=newer,
        email=newer.email,
        reason="mailbox_full",
        report="mail:<1@x>",
    )
    Unsubscribe.objects.create(campaign=spring, contact=older, method="web", scope="list")
    Unsubscribe.objects.create(campaign=spring, contact=newer, method="web", scope="all")
    Unsubscribe.objects.create(campaign=autumn, contact=newer, method="web", scope="all")
    Consent = apps.get_model("campaigns", "Consent")
    Consent.objects.create(contact=newer, list=only_newer, method="form", text="Yes please")
    Contact.objects.filter(pk=third.pk).update(do_not_track=True)
    Suppression.objects.create(scope="email", value="Gone@sina.com", reason="bounced")
    Suppression.objects.create(scope="email", value="Twice@sina.com", reason="manual")
    Suppression.objects.create(scope="email", value="twice@sina.com", reason="bounced")
    capsys.readouterr()

    apps = migrate(leaves())

    printed = capsys.readouterr().out
    assert f"merged user7@sina.com (id {newer.pk}) into USER7@sina.com (id {older.pk})" in printed
    assert f"merged User7@sina.com (id {third.pk}) into USER7@sina.com (id {older.pk})" in printed
    assert "merged 2 contact(s)" in printed

    Contact = apps.get_model("campaigns", "Contact")
    survivor = Contact.objects.get(email_key="user7@sina.com")
    assert survivor.pk == older.pk
    assert survivor.email == "USER7@sina.com"
    assert survivor.name == "Newer"  # the survivor had none
    assert survivor.attributes == {"plan": "pro", "city": "上海"}  # survivor's values win
    assert survivor.status == "bounced"  # the worse status
    assert survivor.do_not_track  # one spelling asked not to be tracked
    consent = apps.get_model("campaigns", "Consent").objects.get()
    assert (consent.contact_id, consent.text) == (older.pk, "Yes please")
    assert Contact.objects.get(pk=alone.pk).email_key == "other@sina.com"
    assert Contact.objects.count() == 2

    memberships = apps.get_model("campaigns", "Membership").objects.filter(contact_id=older.pk)
    assert dict(memberships.values_list("list_id", "status")) == {
        both.pk: "unsubscribed",
        only_newer.pk: "subscribed",
        only_older.pk: "subscribed",
    }
    Delivery = apps.get_model("delivery", "Delivery")
    assert Delivery.objects.get(pk=kept.pk).contact_id == older.pk
    assert Delivery.objects.get(pk=detached.pk).contact_id is None
    assert Delivery.objects.get(pk=moved.pk).contact_id == older.pk
    event = apps.get_model("delivery", "BounceEvent").objects.get()
    assert (event.contact_id, event.delivery_id) == (older.pk, moved.pk)
    unsubscribes = apps.get_model("campaigns", "Unsubscribe").objects.order_by("campaign_id")
    assert list(unsubscribes.values_list("campaign_id", "contact_id", "scope")) == [
        (spring.pk, older.pk, "list"),
        (autumn.pk, older.pk, "all"),
    ]
    Suppression = apps.get_model("campaigns", "Suppression")
    assert sorted(Suppression.objects.values_list("value", flat=True)) == [
        "gone@sina.com",
        "twice@sina.com",
    ]


def test_after_the_migration_the_key_is_unique_and_the_name_index_is_kept(old_apps):
    Contact = old_apps.get_model("campaigns", "Contact")
    Contact.objects.create(email="Ana@shop.example", domain="shop.example")
    apps = migrate(leaves())
    Contact = apps.get_model("campaigns", "Contact")
    assert Contact.objects.get().email_key == "ana@shop.example"
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.create(email="ANA@shop.example", email_key="ana@shop.example")
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "campaigns_contact")
    assert "contact_name_prefix" in indexes  # SQLite's table copy must not lose 0002's index
