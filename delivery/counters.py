"""Adding to counter rows in one statement: INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n.

Both PostgreSQL and SQLite (3.24+) speak this upsert, so concurrent batches of different
workers add to the same row without reading it first and without losing an increment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model


def add(
    model: type[Model],
    *,
    key: Mapping[str, Any],
    increments: Mapping[str, int],
    latest: Mapping[str, Any] | None = None,
) -> None:
    """Add `increments` to the row of `model` identified by `key` (created if missing).

    `latest` columns are overwritten with their new value; None values are left out.
    """
    latest = {name: value for name, value in (latest or {}).items() if value is not None}
    add_many(
        model,
        key_columns=list(key),
        rows=[{**key, **increments, **(latest or {})}],
        increment_columns=list(increments),
        latest_columns=list(latest or {}),
    )


def add_many(
    model: type[Model],
    *,
    key_columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    increment_columns: Sequence[str],
    latest_columns: Sequence[str] = (),
) -> None:
    """`add` for several rows at once (one statement)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [*key_columns, *increment_columns, *latest_columns]
    quoted = [connection.ops.quote_name(model._meta.get_field(c).column) for c in columns]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(rows))
    keys = quoted[: len(key_columns)]
    counted = quoted[len(keys) : len(keys) + len(increment_columns)]
    replaced = quoted[len(keys) + len(counted) :]
    updates = [f"{q} = {table}.{q} + excluded.{q}" for q in counted]
    updates += [f"{q} = COALESCE(excluded.{q}, {table}.{q})" for q in replaced]
    # Table and column names come from the model's metadata; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({', '.join(quoted)}) VALUES {placeholders} "  # noqa: S608
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(updates)}"
    )
    params = [row.get(column) for row in rows for column in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
