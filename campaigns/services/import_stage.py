"""Set-based writing of an import's rows: a batch goes to a staging table, then SQL does the rest.

Per batch (one transaction): the candidates are loaded into a temporary staging table (COPY
on PostgreSQL, executemany on SQLite), rows whose address came earlier in the file are taken
out (a second temporary table remembers every address seen), then one INSERT … ON CONFLICT
upserts the contacts and one more adds the memberships. Addresses are matched by their
`email_key` (the local part lower-cased, made by the row parser): `USER7@Sina.com` after
`user7@sina.com` is a duplicate, and updates a contact that has the other spelling.
Per-row ORM calls would cap an import near 1,000 rows/s; this keeps it at tens of thousands.

Temporary tables live on the job's database connection, so one `Stage` serves one run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from django.db import DatabaseError, IntegrityError, connection, transaction

from campaigns.importing.rows import Candidate, Rejection
from campaigns.models import ImportRejection
from campaigns.selectors.suppressions import erased_among

# New contacts whose address is suppressed get the status that says why.
STATUS_FROM_SUPPRESSION = """
    CASE WHEN x.reason IN ('bounced', 'complained', 'unsubscribed') THEN x.reason
         WHEN x.reason IS NOT NULL THEN 'blocklisted' ELSE 'enabled' END"""


logger = logging.getLogger(__name__)

TEMP_BUFFERS = "256MB"
# Kept without the address: storing it in the rejection would bring back what was erased.
ERASED_REASON = "erased at the person's request"


def copy_text(candidates: Sequence[Candidate]) -> bytes:
    """Candidates as the data of `COPY edm_import_stage FROM STDIN` (PostgreSQL's text format).

    Formatting a batch at once costs less than psycopg's write_row per row, and the import
    runner does it in its reader thread, while the database writes the previous batch.
    """
    lines = []
    for row, email, key, domain, name, attributes in candidates:
        if _needs_escape(email + domain + name + attributes):
            email, key, domain, name, attributes = map(
                _copy_escape, (email, key, domain, name, attributes)
            )
        lines.append(f"{row}\t{email}\t{key}\t{domain}\t{name}\t{attributes}\n")
    return "".join(lines).encode()


def _needs_escape(text: str) -> bool:
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class BatchOutcome(NamedTuple):
    created: int
    updated: int
    added: int
    already_on_list: int
    duplicates: list[Rejection]
    erased: Sequence[Rejection] = ()  # rows whose address was erased: refused, never written


class Stage:
    """The staging tables of one import run and the SQL that applies a batch."""

    def __init__(self, *, list_id: int, mode: str, source: str):
        self.list_id = list_id
        self.mode = mode
        self.source = source
        self.postgres = connection.vendor == "postgresql"
        # Until a batch meets an address that is already a contact, new rows are inserted
        # without ON CONFLICT: one index descent a row instead of two (measured on
        # PostgreSQL with 1M contacts: 10 µs a row against 20 µs).
        self.all_new = True

    def open(self) -> None:
        """Create this connection's empty staging tables."""
        key_type = 'text COLLATE "C"' if self.postgres else "text"
        json_type = "jsonb" if self.postgres else "text"
        with connection.cursor() as cursor:
            if self.postgres:
                self._grow_temp_buffers(cursor)
            cursor.execute("DROP TABLE IF EXISTS edm_import_stage")
            cursor.execute("DROP TABLE IF EXISTS edm_import_seen")
            cursor.execute(
                f"CREATE TEMPORARY TABLE edm_import_stage (row bigint, email text, "
                f"email_key {key_type}, domain text, name text, attributes {json_type})"
            )
            cursor.execute(
                f"CREATE TEMPORARY TABLE edm_import_seen (email_key {key_type} PRIMARY KEY, "
                "row bigint)"
            )

    def _grow_temp_buffers(self, cursor) -> None:
        # The seen-table of a 1,000,000-row file is ~100 MB; in the default 8 MB of local
        # buffers its probes would go to disk. PostgreSQL allows this only before the
        # session's first temporary table: a job's connection is fresh, but a session that
        # already used one keeps its buffers (the import is then only slower).
        try:
            with transaction.atomic():
                cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
        except DatabaseError as exc:
            logger.info("Import keeps this session's temp_buffers: %s", exc)

    def close(self) -> None:
        """Drop the staging tables."""
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS edm_import_stage")
            cursor.execute("DROP TABLE IF EXISTS edm_import_seen")

    def remember(self, candidates: Sequence[Candidate]) -> None:
        """Note addresses of rows done by an earlier run, so later copies count as duplicates."""
        with connection.cursor() as cursor:
            self._load(cursor, candidates)
            self._take_out_duplicates(cursor)
            cursor.execute(
                "INSERT INTO edm_import_seen (email_key, row) "
                "SELECT email_key, row FROM edm_import_stage"
            )

    def write(
        self, candidates: Sequence[Candidate], now, prepared: bytes | None = None
    ) -> BatchOutcome:
        """Apply one batch (unique addresses, in file order); call inside a transaction.
        `prepared` is `copy_text(candidates)` when the caller made it already."""
        stamp = connection.ops.adapt_datetimefield_value(now)
        candidates, erased = self._without_erased(candidates)
        if erased:
            prepared = None  # made for the rows before some were taken out
        with connection.cursor() as cursor:
            if self.postgres:
                # The staging tables have no statistics, and PostgreSQL would join them by
                # hashing all of campaigns_contact and the seen-table once per batch: quadratic
                # over a big import. One index probe per staged row is what we want.
                cursor.execute("SET LOCAL enable_hashjoin = off")
                cursor.execute("SET LOCAL enable_mergejoin = off")
            self._load(cursor, candidates, prepared)
            duplicates = self._take_out_duplicates(cursor)
            cursor.execute(
                "INSERT INTO edm_import_seen (email_key, row) "
                "SELECT email_key, row FROM edm_import_stage"
            )
            staged = len(candidates) - len(duplicates)
            if self.mode == "blocklist":
                created, changed = self._blocklist(cursor, stamp)
                added = already = 0
            elif self.all_new and (created := self._insert_new(cursor, stamp)) is not None:
                changed = added = created
                already = 0
            else:
                created, changed = self._upsert_contacts(cursor, stamp)
                added = self._add_memberships(cursor, stamp)
                already = staged - added
        return BatchOutcome(created, changed - created, added, already, duplicates, erased)

    def _without_erased(
        self, candidates: Sequence[Candidate]
    ) -> tuple[Sequence[Candidate], list[Rejection]]:
        """The candidates whose address was never erased, and rejections of the others.

        In every mode, blocklist included: an erased address is refused everywhere already,
        and writing it down again is what the erasure promised not to do.
        """
        erased = erased_among(c.email for c in candidates)
        if not erased:
            return candidates, []
        kept = [c for c in candidates if c.email not in erased]
        return kept, [Rejection(c.row, ERASED_REASON, "") for c in candidates if c.email in erased]

    def keep_rejections(self, import_id: int, rejected: Sequence[Rejection]) -> None:
        """Store rejected rows for the import's report (call inside the batch's transaction).

        PostgreSQL takes them by COPY: building a model instance per row cost more than the
        rest of the batch's Python (66 µs a row, and a file may reject thousands per batch).
        A row already stored (only possible if a batch were written twice) is kept as it is.
        """
        table = ImportRejection._meta.db_table
        rows = [(import_id, r.row, r.reason[:200], r.value) for r in rejected]
        if self.postgres and rows:
            try:
                with (
                    transaction.atomic(),
                    connection.cursor() as cursor,
                    connection.wrap_database_errors,  # psycopg's errors as Django's
                ):
                    copy_sql = f"COPY {table} (import_run_id, row, reason, value) FROM STDIN"
                    with cursor.cursor.copy(copy_sql) as copy:
                        write_row = copy.write_row
                        for row in rows:
                            write_row(row)
                return
            except IntegrityError:
                pass  # some are stored already: insert the others, skipping those
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 2000):
                chunk = rows[start : start + 2000]
                values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} (import_run_id, row, reason, value) "  # noqa: S608
                    f"VALUES {values} ON CONFLICT (import_run_id, row) DO NOTHING",
                    [value for row in chunk for value in row],
                )

    def _load(self, cursor, candidates: Sequence[Candidate], prepared: bytes | None = None) -> None:
        # Emptied here, not on commit: a caller's outer transaction must not keep old rows.
        cursor.execute(
            "TRUNCATE edm_import_stage" if self.postgres else "DELETE FROM edm_import_stage"
        )
        if self.postgres:
            copy_sql = (
                "COPY edm_import_stage (row, email, email_key, domain, name, attributes) FROM STDIN"
            )
            with cursor.cursor.copy(copy_sql) as copy:
                copy.write(copy_text(candidates) if prepared is None else prepared)
        else:
            cursor.executemany(
                "INSERT INTO edm_import_stage (row, email, email_key, domain, name, attributes) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                candidates,
            )

    def _take_out_duplicates(self, cursor) -> list[Rejection]:
        if self.postgres:
            cursor.execute(
                "DELETE FROM edm_import_stage s USING edm_import_seen seen "
                "WHERE s.email_key = seen.email_key RETURNING s.row, seen.row, s.email"
            )
            found = cursor.fetchall()
        else:
            cursor.execute(
                "SELECT s.row, seen.row, s.email FROM edm_import_stage s "
                "JOIN edm_import_seen seen ON seen.email_key = s.email_key"
            )
            found = cursor.fetchall()
            if found:
                cursor.execute(
                    "DELETE FROM edm_import_stage "
                    "WHERE email_key IN (SELECT email_key FROM edm_import_seen)"
                )
        return [
            Rejection(row, f"duplicate of row {first}", email, duplicate=True)
            for row, first, email in found
        ]

    def _insert_new(self, cursor, stamp) -> int | None:
        """Insert every staged row as a new contact on the list; None if one already exists."""
        contacts = f"""
            INSERT INTO campaigns_contact
                (email, email_key, domain, name, attributes, status, created_at, updated_at)
            SELECT s.email, s.email_key, s.domain, s.name, s.attributes,
                   {STATUS_FROM_SUPPRESSION}, %s, %s
            FROM edm_import_stage s LEFT JOIN campaigns_suppression x ON x.value = s.email_key
            ORDER BY s.email_key"""  # noqa: S608 (in key order the unique index is written in order)
        try:
            with transaction.atomic():  # a savepoint: on a duplicate only this is undone
                if self.postgres:
                    cursor.execute(
                        f"""WITH new AS ({contacts} RETURNING id),
                        listed AS (
                            INSERT INTO campaigns_membership
                                (list_id, contact_id, status, created_at, updated_at)
                            SELECT %s, id, 'subscribed', %s, %s FROM new RETURNING 1)
                        SELECT count(*) FROM listed""",  # noqa: S608 (constants only)
                        [stamp, stamp, self.list_id, stamp, stamp],
                    )
                    return cursor.fetchone()[0]
                cursor.execute(contacts, [stamp, stamp])
                created = cursor.rowcount
                cursor.execute(
                    "INSERT INTO campaigns_membership "
                    "(list_id, contact_id, status, created_at, updated_at) "
                    "SELECT %s, c.id, 'subscribed', %s, %s "
                    "FROM edm_import_stage s JOIN campaigns_contact c ON c.email_key = s.email_key",
                    [self.list_id, stamp, stamp],
                )
                return created
        except IntegrityError:
            self.all_new = False
            return None

    def _upsert_contacts(self, cursor, stamp) -> tuple[int, int]:
        """(created, created + updated). Existing statuses are never touched."""
        if self.mode == "add_only":
            conflict = "DO NOTHING"
        elif self.postgres:
            conflict = """DO UPDATE SET
                name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE c.name END,
                attributes = c.attributes || EXCLUDED.attributes,
                updated_at = EXCLUDED.updated_at
              WHERE (EXCLUDED.name <> '' AND EXCLUDED.name <> c.name)
                 OR NOT c.attributes @> EXCLUDED.attributes"""
        else:
            conflict = """DO UPDATE SET
                name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE c.name END,
                attributes = json_patch(c.attributes, excluded.attributes),
                updated_at = excluded.updated_at
              WHERE (excluded.name <> '' AND excluded.name <> c.name)
                 OR json_patch(json(c.attributes), excluded.attributes) <> json(c.attributes)"""
        return self._insert_contacts(cursor, stamp, STATUS_FROM_SUPPRESSION, conflict)

    def _blocklist(self, cursor, stamp) -> tuple[int, int]:
        result = self._insert_contacts(
            cursor,
            stamp,
            "'blocklisted'",
            "DO UPDATE SET status = 'blocklisted', updated_at = EXCLUDED.updated_at "
            "WHERE c.status <> 'blocklisted'",
        )
        cursor.execute(
            "INSERT INTO campaigns_suppression (scope, value, reason, source, created_at) "
            "SELECT 'email', email_key, 'blocklisted', %s, %s FROM edm_import_stage WHERE true "
            "ON CONFLICT (value) DO NOTHING",
            [self.source, stamp],
        )
        return result

    def _insert_contacts(self, cursor, stamp, status: str, conflict: str) -> tuple[int, int]:
        # `WHERE true`: SQLite needs it to parse INSERT … SELECT … ON CONFLICT. The fragments
        # put into this SQL are constants of this module, never user input.
        insert = f"""
            INSERT INTO campaigns_contact AS c
                (email, email_key, domain, name, attributes, status, created_at, updated_at)
            SELECT s.email, s.email_key, s.domain, s.name, s.attributes, {status}, %s, %s
            FROM edm_import_stage s LEFT JOIN campaigns_suppression x ON x.value = s.email_key
            WHERE true
            ON CONFLICT (email_key) {conflict}
            RETURNING created_at = %s AS inserted"""  # noqa: S608
        if self.postgres:
            cursor.execute(
                f"WITH changed AS ({insert}) "  # noqa: S608
                "SELECT count(*) FILTER (WHERE inserted), count(*) FROM changed",
                [stamp, stamp, stamp],
            )
            created, changed = cursor.fetchone()
            return created, changed
        cursor.execute(insert, [stamp, stamp, stamp])
        inserted = [row[0] for row in cursor.fetchall()]
        return sum(inserted), len(inserted)

    def _add_memberships(self, cursor, stamp) -> int:
        insert = """
            INSERT INTO campaigns_membership (list_id, contact_id, status, created_at, updated_at)
            SELECT %s, c.id, 'subscribed', %s, %s
            FROM edm_import_stage s JOIN campaigns_contact c ON c.email_key = s.email_key
            WHERE true
            ON CONFLICT (list_id, contact_id) DO NOTHING
            RETURNING 1"""
        params = [self.list_id, stamp, stamp]
        if self.postgres:
            cursor.execute(f"WITH added AS ({insert}) SELECT count(*) FROM added", params)  # noqa: S608
            return cursor.fetchone()[0]
        cursor.execute(insert, params)
        return len(cursor.fetchall())
