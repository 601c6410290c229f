"""Contacts and suppressions compare addresses without the local part's case.

Adds `Contact.email_key` (the address with its local part lower-cased; see
campaigns/emails.py for why `lower()` and not `casefold()`), fills it, merges the contacts
that only differed in case, and makes the key the unique index in place of `email`'s.
Suppressions of addresses are rewritten to the same key.

Merging, per group of contacts with one key (the oldest — lowest created_at, then id —
survives, keeping its spelling of the address):

- memberships: the union; on a list both were on, unsubscribed wins (an opt-out given under
  one spelling must hold for the person, whatever the other spelling said);
- deliveries: moved to the survivor, except where a campaign reached both: the survivor's
  stays, the other's is detached (contact NULL, as deleting a contact does) so what was
  sent stays in the campaign's report and counters; (campaign, contact) is unique;
- bounce events and transactional messages: moved to the survivor;
- unsubscribe records: moved, except for a campaign the survivor has one for already;
- name and attributes: the survivor's values win, missing ones are filled from the other;
- status: the strongest wins (blocklisted > complained > bounced > unsubscribed > enabled).

Each merge prints one line, then a total. The fill is set-based SQL for ASCII addresses
(SQL `lower()` agrees with Python's there) and Python only for the rare non-ASCII ones.

Reversible in schema only: going back removes the key and restores `email`'s unique index,
but merged contacts stay merged and suppressions stay lower-cased.
"""

from django.db import migrations, models

STRENGTH = ["enabled", "unsubscribed", "bounced", "complained", "blocklisted"]


def _key(email: str) -> str:
    # A copy of campaigns.emails.email_key, so this migration means the same thing forever.
    local, _, domain = email.rpartition("@")
    return f"{local.lower()}@{domain}"


def _non_ascii(connection, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"octet_length({column}) <> char_length({column})"
    return f"length(CAST({column} AS BLOB)) <> length({column})"


def fill_keys(apps, schema_editor):
    connection = schema_editor.connection
    non_ascii = _non_ascii(connection, "email")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE campaigns_contact SET email_key = lower(email) WHERE NOT ({non_ascii})"  # noqa: S608
        )
        cursor.execute(f"SELECT id, email FROM campaigns_contact WHERE {non_ascii}")  # noqa: S608
        rows = [(_key(email), pk) for pk, email in cursor.fetchall()]
        cursor.executemany("UPDATE campaigns_contact SET email_key = %s WHERE id = %s", rows)
        if connection.vendor == "postgresql":
            # Byte order, like email had (0002): the unique index then serves prefix ranges.
            cursor.execute(
                "ALTER TABLE campaigns_contact "
                'ALTER COLUMN email_key TYPE varchar(254) COLLATE "C"'
            )


def merge_case_duplicates(apps, schema_editor):
    Contact = apps.get_model("campaigns", "Contact")
    keys = (
        Contact.objects.values_list("email_key", flat=True)
        .annotate(n=models.Count("id"))
        .filter(n__gt=1)
        .order_by("email_key")
    )
    merged = 0
    for key in list(keys):
        survivor, *others = Contact.objects.filter(email_key=key).order_by("created_at", "id")
        for other in others:
            line = f"merged {other.email} (id {other.pk}) into {survivor.email} (id {survivor.pk})"
            _merge(apps, survivor, other)
            print(line)
            merged += 1
    print(f"merged {merged} contact(s) that differed only in the case of their address")
    if schema_editor.connection.vendor == "postgresql":
        # Deferred foreign key checks queued by the moves would make PostgreSQL refuse the
        # ALTER TABLE that follows ("pending trigger events"): run them now.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _merge(apps, survivor, other) -> None:
    Membership = apps.get_model("campaigns", "Membership")
    Unsubscribe = apps.get_model("campaigns", "Unsubscribe")
    Delivery = apps.get_model("delivery", "Delivery")
    BounceEvent = apps.get_model("delivery", "BounceEvent")
    TxMessage = apps.get_model("delivery", "TxMessage")
    Consent = apps.get_model("campaigns", "Consent")
    DataRightsAction = apps.get_model("campaigns", "DataRightsAction")

    theirs = Membership.objects.filter(contact_id=other.pk)
    shared = Membership.objects.filter(
        contact_id=survivor.pk, list_id__in=theirs.values("list_id")
    )
    shared.filter(
        list_id__in=theirs.filter(status="unsubscribed").values("list_id")
    ).update(status="unsubscribed")
    theirs.filter(list_id__in=shared.values("list_id")).delete()
    theirs.update(contact_id=survivor.pk)

    reached = Delivery.objects.filter(contact_id=survivor.pk).values("campaign_id")
    Delivery.objects.filter(contact_id=other.pk, campaign_id__in=reached).update(contact_id=None)
    Delivery.objects.filter(contact_id=other.pk).update(contact_id=survivor.pk)
    BounceEvent.objects.filter(contact_id=other.pk).update(contact_id=survivor.pk)
    TxMessage.objects.filter(contact_id=other.pk).update(contact_id=survivor.pk)

    left = Unsubscribe.objects.filter(contact_id=survivor.pk).values("campaign_id")
    Unsubscribe.objects.filter(contact_id=other.pk, campaign_id__in=left).delete()
    Unsubscribe.objects.filter(contact_id=other.pk).update(contact_id=survivor.pk)
    # Consent is proof of what the person agreed to: every record is kept, on the survivor.
    Consent.objects.filter(contact_id=other.pk).update(contact_id=survivor.pk)
    DataRightsAction.objects.filter(contact_id=other.pk).update(contact_id=survivor.pk)

    survivor.attributes = {**(other.attributes or {}), **(survivor.attributes or {})}
    survivor.name = survivor.name or other.name
    survivor.status = max(survivor.status, other.status, key=STRENGTH.index)
    # Either spelling asking not to be tracked is the person asking.
    survivor.do_not_track = survivor.do_not_track or other.do_not_track
    survivor.save(update_fields=["attributes", "name", "status", "do_not_track"])
    other.delete()


def lower_suppressions(apps, schema_editor):
    """Rewrite address suppressions to their key; of two spellings, one entry stays."""
    Suppression = apps.get_model("campaigns", "Suppression")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, value FROM campaigns_suppression WHERE scope = 'email' "  # noqa: S608
            f"AND (value <> lower(value) OR {_non_ascii(connection, 'value')}) ORDER BY id"
        )
        rows = cursor.fetchall()
    for pk, value in rows:
        key = _key(value)
        if key == value:
            continue
        if Suppression.objects.filter(value=key).exists():
            Suppression.objects.filter(pk=pk).delete()
            print(f"dropped the suppression of {value}: {key} is suppressed already")
        else:
            Suppression.objects.filter(pk=pk).update(value=key)


def drop_like_index(apps, schema_editor):
    # Django adds a varchar_pattern_ops twin to the unique index on PostgreSQL; with "C"
    # collation the plain index serves LIKE and ranges, so the twin only slows imports.
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'campaigns_contact' "
            "AND indexname LIKE '%%email_key%%_like'"
        )
        for (name,) in cursor.fetchall():
            schema_editor.execute(f'DROP INDEX "{name}"')


def restore_name_index(apps, schema_editor):
    # SQLite alters a column by copying the table, which loses 0002's expression index.
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS contact_name_prefix ON campaigns_contact (lower(name))"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0008_tracking_switches"),  # consents, data-rights records, do-not-track
        ("delivery", "0008_engagement"),  # deliveries, bounce events, tx messages
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_name_index),
        migrations.AddField(
            model_name="contact",
            name="email_key",
            field=models.CharField(max_length=254, null=True),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.RunPython(merge_case_duplicates, migrations.RunPython.noop),
        migrations.RunPython(lower_suppressions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="contact",
            name="email_key",
            field=models.CharField(max_length=254, unique=True),
        ),
        migrations.AlterField(
            model_name="contact",
            name="email",
            field=models.CharField(max_length=254),
        ),
        migrations.RunPython(drop_like_index, migrations.RunPython.noop),
        migrations.RunPython(restore_name_index, migrations.RunPython.noop),
    ]
