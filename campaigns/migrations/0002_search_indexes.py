"""Indexes for prefix search and keyset pages that Django's model options cannot express.

PostgreSQL compares text by the database's collation; under a linguistic one (en_US) a btree
index serves neither `LIKE 'abc%'` nor a prefix range. Byte order ("C") makes the email,
suppression value and lower(name) indexes serve prefix ranges and ORDER BY alike. SQLite
already compares with BINARY (code point order). Backwards leaves the collation and the
dropped LIKE indexes as they are (the tables are dropped by 0001's reversal anyway).
"""

from django.db import migrations

# Django adds a varchar_pattern_ops twin to every indexed CharField on PostgreSQL, for LIKE;
# with "C" collation the plain index serves LIKE too, so the twins only slow imports down.
DROP_LIKE_INDEXES = """
    SELECT indexname FROM pg_indexes
    WHERE tablename IN ('campaigns_contact', 'campaigns_suppression') AND indexname LIKE '%%_like'
"""

POSTGRESQL = [
    'ALTER TABLE campaigns_contact ALTER COLUMN email TYPE varchar(254) COLLATE "C"',
    'ALTER TABLE campaigns_suppression ALTER COLUMN value TYPE varchar(254) COLLATE "C"',
    'CREATE INDEX contact_name_prefix ON campaigns_contact ((lower(name) COLLATE "C"))',
]
SQLITE = ["CREATE INDEX contact_name_prefix ON campaigns_contact (lower(name))"]


def forwards(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for statement in POSTGRESQL if postgres else SQLITE:
        schema_editor.execute(statement)
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP_LIKE_INDEXES)
            for (name,) in cursor.fetchall():
                schema_editor.execute(f'DROP INDEX "{name}"')


def backwards(apps, schema_editor):
    schema_editor.execute("DROP INDEX contact_name_prefix")


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
