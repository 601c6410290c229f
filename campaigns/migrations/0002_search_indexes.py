"""Indexes for prefix search and keyset pages that Django's model options cannot express.

PostgreSQL compares text by the database's collation; under a linguistic one (en_US) a btree
index serves neither `LIKE 'abc%'` nor a prefix range. Byte order ("C") makes the email,
suppression value and lower(name) indexes serve prefix ranges and ORDER BY alike. SQLite
already compares with BINARY (code point order).
"""

from django.db import migrations

POSTGRESQL = [
    'ALTER TABLE campaigns_contact ALTER COLUMN email TYPE varchar(254) COLLATE "C"',
    'ALTER TABLE campaigns_suppression ALTER COLUMN value TYPE varchar(254) COLLATE "C"',
    'CREATE INDEX contact_name_prefix ON campaigns_contact ((lower(name) COLLATE "C"))',
]
SQLITE = ["CREATE INDEX contact_name_prefix ON campaigns_contact (lower(name))"]


def forwards(apps, schema_editor):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    schema_editor.execute("DROP INDEX contact_name_prefix")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
