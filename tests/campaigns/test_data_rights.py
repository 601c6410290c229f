"""Data rights: a contact's export holds all of them and nobody else; an erasure leaves no trace
of the address in any table, keeps the counters, and keeps the address from coming back."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from campaigns.address_hash import address_hash
from campaigns.links import LinkTarget, unsubscribe_address
from campaigns.models import Contact, DataRightsAction, Import, ImportRejection, Suppression
from campaigns.selectors import data_rights as export
from campaigns.selectors.suppressions import email_is_suppressed
from campaigns.services import contacts as contact_services
from campaigns.services import data_rights
from campaigns.services.contact_upsert import UpsertRow, contacts_upsert
from campaigns.services.contacts import ContactErasedError
from delivery.bounce_effects import Bounce, bounce_record
from delivery.inbound.processing import inbound_process
from delivery.inbound.store import inbound_message_store
from delivery.message import Sender
from delivery.models import (
    BounceEvent,
    CampaignStats,
    Delivery,
    InboundMessage,
    MinuteStats,
    ReasonStats,
    SiteStats,
    TxMessage,
)
from delivery.outbox import captured_message_store
from delivery.recording import results_record
from delivery.sending import Outcome, Result
from delivery.smtp import Reply
from delivery.tx.accept import TxRecipientIn, tx_request_accept
from tests.delivery import returns
from tests.factories import make_campaign, make_list, run_import, write_csv
from tests.report_factories import planned_campaign
from tests.report_factories import record as record_outcomes

pytestmark = pytest.mark.django_db

JANE = "Jane.Doe@example.com"
# What must be gone after Jane's erasure, wherever it was written (compared lower-cased).
JANE_TRACES = ("jane.doe@example.com", "jane doe", "llanfairpwllgwyngyll")


@pytest.fixture(autouse=True)
def bounce_domain(settings):
    settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("ada")


def receive(raw: bytes, *, to: list[str]) -> InboundMessage:
    """Store a message as bounce-in would, and process it as its job would."""
    stored = inbound_message_store(source=InboundMessage.Source.SMTP, raw=raw, recipients=to)
    return inbound_process(stored.pk)


def tx_send(template, *recipients: str | tuple[str, str]):
    """Send `template` to addresses, or (address, name) pairs, as POST /api/tx does."""
    pairs = [(r, "") if isinstance(r, str) else r for r in recipients]
    return tx_request_accept(
        template=template,
        sender=Sender("Shop", "account@shop.example"),
        recipients=[TxRecipientIn(email, name, {"order": "A-17"}) for email, name in pairs],
    )


def jane_and_bob(tmp_path, redis_db):
    """Jane with a history that writes her address into every kind of table, and Bob, who
    must keep all of his. Everything goes through the product's own code."""
    news, offers = make_list("News"), make_list("Offers")
    jane = contact_services.contact_create(
        email=JANE, name="Jane Doe", attributes={"town": "Llanfairpwllgwyngyll"}, lists=[news]
    )
    bob = contact_services.contact_create(email="bob@example.com", name="Bob Stone", lists=[news])
    contact_services.contact_add(contact_list=offers, email=JANE)
    contact_services.membership_unsubscribe(contact_list=offers, contact=jane)
    # An import that saw Jane twice: the second row is rejected with her address in it.
    run_import(news, write_csv(tmp_path / "news.csv", [["email"], [JANE], [JANE], [bob.email]]))

    autumn = planned_campaign([jane.email, bob.email], name="Autumn sale")
    jane_autumn = Delivery.objects.get(campaign=autumn, contact=jane)
    # Some servers quote the recipient in their answer, in the case they were given it.
    accepted = Reply(250, "2.1.5", f"<{JANE.upper()}>... Recipient ok, queued as 4Xy2Lq")
    results_record(
        autumn,
        jane_autumn.site,
        [Result(jane_autumn.pk, Outcome.SENT, timezone.now(), accepted, host="mx1")],
    )
    record_outcomes(autumn, {bob.email: "sent"})
    Delivery.objects.filter(pk=jane_autumn.pk).update(
        opened_at=timezone.now(), clicked_at=timezone.now()
    )
    path = returns.return_path(jane_autumn)
    receive(returns.dsn(returns.original(jane_autumn), to=path, recipient=jane.email), to=[path])
    receive(
        returns.auto_reply("<x@shop.example>", to=path, sender=f"Jane Doe <{jane.email}>"),
        to=[path],
    )

    winter = make_campaign(lists=[news], name="Winter sale", status="sending")
    jane_winter = returns.sent_delivery(winter, jane)
    path = returns.return_path(jane_winter)
    receive(returns.arf(returns.original(jane_winter), to=path, recipient=jane.email), to=[path])
    leave = unsubscribe_address(
        "bounces.edm.example", LinkTarget(winter.pk, jane.pk), django_settings.SECRET_KEY
    )
    receive(returns.unsubscribe_mail(to=leave, sender=jane.email), to=[leave])
    captured_message_store(
        mail_from=path, recipients=[jane.email], raw=returns.original(jane_winter)
    )

    template = make_template()
    tx_send(template, (JANE.upper(), "Jane Doe"), "bob@example.com")
    jane.refresh_from_db()
    return jane, bob, (autumn, winter), template


def make_template():
    from campaigns.models import Template

    return Template.objects.create(name="Receipt", subject="Your order", html="<p>Thanks</p>")


def counters() -> list[tuple]:
    found = []
    for model in (CampaignStats, SiteStats, MinuteStats, ReasonStats):
        found += [tuple(row.values()) for row in model.objects.order_by("pk").values()]
    return found


TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.BinaryField)


def traces_in_database(traces) -> list[str]:
    """Every model's text, JSON and binary columns, row by row, searched for the traces."""
    found = []
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        label = model._meta.label_lower
        if not fields:
            continue
        for row in model.objects.values_list("pk", *fields):
            for field, value in zip(fields, row[1:], strict=True):
                if isinstance(value, (bytes, memoryview)):
                    text = bytes(value).decode("utf-8", "replace")
                elif isinstance(value, str):
                    text = value
                else:
                    text = json.dumps(value, ensure_ascii=False)
                found += [
                    f"{label}.{field} #{row[0]}: {trace}"
                    for trace in traces
                    if trace in text.lower()
                ]
    return found


def test_the_database_grep_finds_every_trace_before_the_erasure(tmp_path, redis_db):
    # The check below is only as good as this: before, Jane is all over the database.
    jane_and_bob(tmp_path, redis_db)
    tables = {trace.split(".", 1)[1].split(" #")[0] for trace in traces_in_database(JANE_TRACES)}
    assert tables >= {
        "contact.email",
        "contact.attributes",
        "delivery.email",
        "attempt.text",
        "bounceevent.email",
        "bounceevent.diagnostic",
        "inboundmessage.raw",
        "inboundmessage.parsed",
        "txmessage.email",
        "txmessage.name",
        "txrequest.response",
        "capturedmessage.raw",
        "importrejection.value",
        "suppression.value",
    }


def test_erasing_leaves_no_trace_of_the_address_name_or_attributes_in_any_table(
    tmp_path, redis_db, user
):
    jane, _bob, _campaigns, _template = jane_and_bob(tmp_path, redis_db)

    erased = data_rights.contact_erase(jane, by=user)

    assert traces_in_database(JANE_TRACES) == []
    assert erased.contacts == 1 and erased.deliveries == 2 and erased.bounce_events == 2
    assert erased.captured_messages == 1 and erased.import_rejections == 1


def test_erasing_keeps_everyone_elses_data(tmp_path, redis_db, user):
    jane, bob, (autumn, _winter), _template = jane_and_bob(tmp_path, redis_db)
    lists = sorted(bob.memberships.values_list("list__name", "status"))

    data_rights.contact_erase(jane, by=user)

    bob.refresh_from_db()
    assert (bob.email, bob.name) == ("bob@example.com", "Bob Stone")
    assert Delivery.objects.get(campaign=autumn, contact=bob).email == "bob@example.com"
    assert TxMessage.objects.get(contact=bob).email == "bob@example.com"
    assert sorted(bob.memberships.values_list("list__name", "status")) == lists


def test_erasing_keeps_every_counter_and_the_rows_they_count(tmp_path, redis_db, user):
    jane, _bob, (autumn, winter), _template = jane_and_bob(tmp_path, redis_db)
    before = counters()
    statuses = sorted(Delivery.objects.values_list("campaign_id", "status"))

    data_rights.contact_erase(jane, by=user)

    assert counters() == before
    assert sorted(Delivery.objects.values_list("campaign_id", "status")) == statuses
    assert returns.counters_add_up(autumn) and returns.counters_add_up(winter)
    assert BounceEvent.objects.filter(email="").count() == 2  # the Bounces page keeps them


def test_erasing_replaces_the_address_suppressions_by_one_keyed_hash(tmp_path, redis_db, user):
    jane, *_ = jane_and_bob(tmp_path, redis_db)
    assert Suppression.objects.filter(value=JANE.lower()).exists()  # her hard bounce, by key

    data_rights.contact_erase(jane, by=user)

    kept = Suppression.objects.get(scope=Suppression.Scope.HASH)
    assert kept.value == address_hash("jane.doe@EXAMPLE.COM") != address_hash("bob@example.com")
    assert (kept.reason, kept.source, kept.created_by) == ("erased", "erased by ada", user)
    assert len(kept.value) == 64 and JANE.lower() not in kept.value
    assert email_is_suppressed("JANE.DOE@example.com")


def test_the_hash_is_keyed_with_the_secret_key_and_survives_a_rotation_through_fallbacks(
    settings, user
):
    old_key = settings.SECRET_KEY
    data_rights.contact_erase(contact_services.contact_create(email=JANE), by=user)
    settings.SECRET_KEY = "a-new-secret-key-that-is-long-enough-" * 2

    assert address_hash(JANE) != Suppression.objects.get().value
    assert not email_is_suppressed(JANE)
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert email_is_suppressed(JANE.upper())


def test_an_erased_address_in_another_case_cannot_be_created_added_or_changed_to(
    tmp_path, redis_db, user
):
    jane, bob, *_ = jane_and_bob(tmp_path, redis_db)
    data_rights.contact_erase(jane, by=user)
    news = make_list("Later")

    with pytest.raises(ContactErasedError):
        contact_services.contact_create(email="JANE.DOE@example.com")
    with pytest.raises(ContactErasedError):
        contact_services.contact_add(contact_list=news, email="jane.doe@Example.COM")
    with pytest.raises(ContactErasedError):
        contact_services.contact_update(bob, email="jane.DOE@example.com", name="", attributes={})
    assert not Contact.objects.filter(email__iexact=JANE).exists()


def test_a_later_import_refuses_the_erased_address_in_any_case_and_keeps_no_copy(
    tmp_path, redis_db, user
):
    jane, *_ = jane_and_bob(tmp_path, redis_db)
    data_rights.contact_erase(jane, by=user)
    later = make_list("Later")
    rows = [["email", "name"], ["JANE.DOE@EXAMPLE.COM", "Jane Doe"], ["new@example.com", "New"]]

    imp = run_import(later, write_csv(tmp_path / "later.csv", rows))

    assert (imp.status, imp.created, imp.invalid) == (Import.Status.DONE, 1, 1)
    rejection = ImportRejection.objects.get(import_run=imp)
    assert (rejection.row, rejection.reason, rejection.value) == (
        2,
        "erased at the person's request",
        "",
    )
    assert not Contact.objects.filter(email__iexact=JANE).exists()
    assert traces_in_database(JANE_TRACES) == []


def test_a_later_bulk_upsert_rejects_the_erased_address_by_index(tmp_path, redis_db, user):
    jane, *_ = jane_and_bob(tmp_path, redis_db)
    data_rights.contact_erase(jane, by=user)

    outcome = contacts_upsert(
        contact_list=make_list("Later"),
        rows=[UpsertRow("new@example.com"), UpsertRow("jane.doe@EXAMPLE.com")],
    )

    assert outcome.created == 1
    assert [(r.index, r.reason) for r in outcome.rejected] == [
        (1, "erased at the person's request")
    ]


def test_later_transactional_mail_to_the_erased_address_is_refused(tmp_path, redis_db, user):
    jane, _bob, _campaigns, template = jane_and_bob(tmp_path, redis_db)
    data_rights.contact_erase(jane, by=user)

    accepted = tx_send(template, "jane.doe@EXAMPLE.com", "bob@example.com")

    outcomes = {m["email"]: (m["status"], m["reason"]) for m in accepted.response["messages"]}
    assert outcomes == {
        "jane.doe@example.com": ("refused", "suppressed: erased on request"),
        "bob@example.com": ("queued", ""),
    }


def test_erasing_cancels_deliveries_not_yet_sent_and_the_audience_still_adds_up(user):
    campaign = planned_campaign([JANE, "bob@example.com"], name="Spring sale")
    jane = Contact.objects.get(email=JANE)

    outcome = data_rights.contact_erase(jane, by=user)

    assert outcome.cancelled == 1
    delivery = Delivery.objects.get(campaign=campaign, email="")
    assert delivery.status == Delivery.Status.CANCELLED
    stats = CampaignStats.objects.get(campaign=campaign)
    assert (stats.audience, stats.queued, stats.cancelled) == (2, 1, 1)
    assert SiteStats.objects.get(campaign=campaign).queued == 1
    assert returns.counters_add_up(campaign)


def test_a_late_bounce_of_an_erased_delivery_brings_no_address_back(user):
    campaign = make_campaign(lists=[make_list()], status="sending")
    jane = contact_services.contact_create(email=JANE)
    delivery = returns.sent_delivery(campaign, jane)
    data_rights.contact_erase(jane, by=user)

    bounce_record(
        [Bounce(delivery.pk, "bounce", "mail", "mail:<late@x>", "userunknown", hard=True)]
    )

    assert list(Suppression.objects.values_list("scope", flat=True)) == ["hash"]
    assert Delivery.objects.get(pk=delivery.pk).status == Delivery.Status.BOUNCED


def test_an_erasure_is_recorded_with_who_did_it_and_no_address(user):
    jane = contact_services.contact_create(email=JANE, name="Jane Doe")

    data_rights.contact_erase(jane, by=user)

    action = DataRightsAction.objects.get()
    assert (action.kind, action.contact_id, action.by, action.actor) == (
        "erase",
        jane.pk,
        user,
        "ada",
    )
    assert action.token is None and action.at is not None


# --- export ---


def test_the_export_holds_each_section_with_the_contacts_values_and_no_one_elses(
    tmp_path, redis_db
):
    jane, _bob, (autumn, winter), _template = jane_and_bob(tmp_path, redis_db)

    document = export.contact_data_export(jane)

    assert document["format"] == "edm.contact/1"
    assert document["contact"] | {"created_at": None, "updated_at": None} == {
        "id": jane.pk,
        "email": JANE,
        "name": "Jane Doe",
        "attributes": {"town": "Llanfairpwllgwyngyll"},
        "status": "complained",
        "do_not_track": False,
        "created_at": None,
        "updated_at": None,
    }
    lists = {m["list"]["name"]: m["status"] for m in document["memberships"]}
    assert lists == {
        "News": "unsubscribed",  # the complaint unsubscribed her everywhere
        "Offers": "unsubscribed",
        "Autumn sale audience": "unsubscribed",
    }
    assert all(m["created_at"] and m["updated_at"] for m in document["memberships"])
    autumn_row, winter_row = document["deliveries"]
    assert autumn_row["campaign"] == {"id": autumn.pk, "name": "Autumn sale"}
    assert (autumn_row["status"], autumn_row["bounce_reason"], autumn_row["hard_bounce"]) == (
        "bounced",
        "userunknown",
        True,
    )
    assert autumn_row["sent_at"] and autumn_row["opened_at"] and autumn_row["clicked_at"]
    assert (winter_row["campaign"]["name"], winter_row["status"]) == ("Winter sale", "complained")
    [bounce] = document["bounces"]
    assert (bounce["reason"], bounce["hard"], bounce["status"]) == ("userunknown", True, "5.1.1")
    assert JANE in bounce["diagnostic"]
    [complaint] = document["complaints"]
    assert (complaint["campaign"]["id"], complaint["feedback_type"]) == (winter.pk, "abuse")
    [unsubscribe] = document["unsubscribes"]
    assert (unsubscribe["campaign"]["id"], unsubscribe["method"]) == (winter.pk, "mailto")
    [tx] = document["transactional"]
    # Sent to another spelling of her address: still her contact, so her attributes too.
    assert (tx["template"], tx["name"], tx["data"]) == (
        "Receipt",
        "Jane Doe",
        {"town": "Llanfairpwllgwyngyll", "order": "A-17"},
    )
    assert {s["reason"] for s in document["suppressions"]} == {"bounced"}
    text = json.dumps(document)
    assert "bob" not in text.lower() and "Bob Stone" not in text


def test_the_streamed_export_is_the_same_document(tmp_path, redis_db):
    jane, *_ = jane_and_bob(tmp_path, redis_db)

    streamed = json.loads("".join(export.contact_data_export_chunks(jane)))
    whole = export.contact_data_export(jane)

    assert streamed.pop("exported_at") and whole.pop("exported_at")
    assert streamed == whole
    assert list(streamed) == ["format", "contact", *(s.name for s in export.SECTIONS)]


def history(contact: Contact, campaigns: int) -> None:
    for index in range(campaigns):
        campaign = make_campaign(lists=[], name=f"Campaign {index}", status="sending")
        delivery = returns.sent_delivery(campaign, contact)
        bounce_record([Bounce(delivery.pk, "bounce", "mail", f"mail:<{index}@x>", "mailboxfull")])


@pytest.mark.parametrize("campaigns", [2, 25])
def test_the_export_reads_a_bounded_number_of_queries_whatever_the_history(
    campaigns, django_assert_max_num_queries
):
    jane = contact_services.contact_create(email=JANE, lists=[make_list()])
    history(jane, campaigns)

    with django_assert_max_num_queries(9):
        document = export.contact_data_export(jane)

    assert len(document["deliveries"]) == len(document["bounces"]) == campaigns


def test_deliveries_are_read_in_keyset_chunks_without_losing_or_repeating_one():
    jane = contact_services.contact_create(email=JANE)
    history(jane, 7)

    rows = list(export.deliveries(jane, chunk=3))

    assert [r["campaign"]["name"] for r in rows] == [f"Campaign {i}" for i in range(7)]


def test_an_export_is_recorded_with_who_asked(user):
    jane = contact_services.contact_create(email=JANE)

    document = data_rights.contact_export_data(jane, by=user)

    assert document["contact"]["email"] == JANE
    action = DataRightsAction.objects.get()
    assert (action.kind, action.contact_id, action.actor) == ("export", jane.pk, "ada")


def test_rows_an_earlier_deleted_contact_of_the_address_left_are_exported_and_erased(user):
    campaign = make_campaign(lists=[make_list()], name="Old news", status="sending")
    earlier = contact_services.contact_create(email=JANE.upper())
    left = returns.sent_delivery(campaign, earlier)
    contact_services.contact_delete(earlier)  # the delivery stays, without its contact
    jane = contact_services.contact_create(email=JANE)

    exported = export.contact_data_export(jane)["deliveries"]
    data_rights.contact_erase(jane, by=user)

    assert [(d["campaign"]["name"], d["email"]) for d in exported] == [
        ("Old news", "JANE.DOE@example.com")  # the domain normalized, the local part as given
    ]
    assert Delivery.objects.get(pk=left.pk).email == ""
