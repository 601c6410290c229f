"""Conditions on one of a contact's attributes (its JSON `attributes`), in each vendor's SQL.

Attribute names are whatever users typed, so the name is always a query parameter, never
part of the SQL. On SQLite that rules out JSON paths (`$."name"` cannot hold a `"` in
SQLite 3.40), so the value is found with `json_each(...) WHERE key = %s`; on PostgreSQL
`attributes -> %s` takes any text.

Values compare in their text form: a string as it is, a number as written, true/false.
Number ranges and dates read the value only when it looks like one (a JSON number, or a
string of decimal digits; a string starting YYYY-MM-DD), inside a CASE, so a row whose
attribute is "n/a" just does not match instead of failing the cast (PostgreSQL does not
promise to evaluate a WHERE's conditions in any order, but CASE it does). Dates compare as
their ISO text, which sorts in date order, so they need no cast at all.

`contains` ignores case; on SQLite only for A–Z (its LIKE), on PostgreSQL for every
letter (ILIKE).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import NotSupportedError
from django.db.models import BooleanField, F, Func

from campaigns.segments.definition import NumberRange, Op

# \A and \Z: "$" would let Python (SQLite's REGEXP is Django's Python function) accept a
# trailing newline that PostgreSQL refuses. At most 250 digits (PostgreSQL's regular
# expressions allow no larger count), so SQLite's REAL holds any number that matches.
NUMBER_PATTERN = r"\A[-+]?[0-9]{1,250}(\.[0-9]{1,250})?\Z"
DATE_PATTERN = r"\A[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"

_SQLITE_TEXT = (
    "(SELECT CASE WHEN j.type IN ('true', 'false') THEN j.type ELSE CAST(j.value AS TEXT) END "
    "FROM json_each({column}) j WHERE j.key = %s)"
)
_SQLITE_NUMBER = (
    "(SELECT CASE WHEN j.type IN ('integer', 'real') THEN j.value "
    "WHEN j.type = 'text' AND j.value REGEXP %s THEN CAST(j.value AS REAL) END "
    "FROM json_each({column}) j WHERE j.key = %s)"
)
_SQLITE_DATE = (
    "(SELECT CASE WHEN j.type = 'text' AND j.value REGEXP %s THEN substr(j.value, 1, 10) END "
    "FROM json_each({column}) j WHERE j.key = %s)"
)
_POSTGRES_TEXT = "({column} ->> %s)"
_POSTGRES_NUMBER = (
    "(CASE WHEN jsonb_typeof({column} -> %s) = 'number' THEN ({column} ->> %s)::numeric "
    "WHEN jsonb_typeof({column} -> %s) = 'string' AND ({column} ->> %s) ~ %s "
    "THEN ({column} ->> %s)::numeric END)"
)
_POSTGRES_DATE = (
    "(CASE WHEN jsonb_typeof({column} -> %s) = 'string' AND ({column} ->> %s) ~ %s "
    'THEN substr({column} ->> %s, 1, 10) END) COLLATE "C"'
)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class AttributeTest(Func):
    """True for a contact whose attribute `key` passes `op` with `value` (NULL: no match)."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, key: str, op: Op, value=None):
        super().__init__(F("attributes"))
        self.key, self.op, self.value = key, op, value

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"segments have no attribute SQL for {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        key = self.key

        def text():
            return _SQLITE_TEXT.format(column=column), [*column_params, key]

        def number():
            return _SQLITE_NUMBER.format(column=column), [NUMBER_PATTERN, *column_params, key]

        def date():
            return _SQLITE_DATE.format(column=column), [DATE_PATTERN, *column_params, key]

        return self._test(text, number, date, lambda bound: bound, like="LIKE")

    def as_postgresql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        key, p = self.key, list(column_params)
        # numeric, not float: a JSON number in jsonb may be beyond a float's range.

        def text():
            return _POSTGRES_TEXT.format(column=column), [*p, key]

        def number():
            sql = _POSTGRES_NUMBER.format(column=column)
            return sql, [*p, key, *p, key, *p, key, *p, key, NUMBER_PATTERN, *p, key]

        def date():
            sql = _POSTGRES_DATE.format(column=column)
            return sql, [*p, key, *p, key, DATE_PATTERN, *p, key]

        return self._test(text, number, date, lambda bound: Decimal(repr(bound)), like="ILIKE")

    def _test(self, text, number, date, bound, *, like: str):
        op, value = self.op, self.value
        if op is Op.EQUALS:
            sql, params = text()
            return f"{sql} = %s", [*params, value]
        if op is Op.ONE_OF:
            sql, params = text()
            return f"{sql} IN ({', '.join(['%s'] * len(value))})", [*params, *value]
        if op is Op.CONTAINS:
            sql, params = text()
            return f"{sql} {like} %s ESCAPE '\\'", [*params, _like_pattern(value)]
        if op in (Op.IS_SET, Op.IS_NOT_SET):
            sql, params = text()
            # Set: there, and neither null nor an empty text (what an empty cell imports as).
            test = f"COALESCE({sql}, '') <> ''"
            return (test if op is Op.IS_SET else f"NOT ({test})"), params
        if op is Op.BETWEEN:
            return _between(*number(), value, bound)
        if op in (Op.BEFORE, Op.AFTER):
            sql, params = date()
            return f"{sql} {'<' if op is Op.BEFORE else '>'} %s", [*params, value.isoformat()]
        raise ValueError(f"{op} is not an attribute test")


def _between(sql: str, params: list, value: NumberRange, bound) -> tuple[str, list]:
    tests, out = [], []
    if value.low is not None:
        tests.append(f"{sql} >= %s")
        out += [*params, bound(value.low)]
    if value.high is not None:
        tests.append(f"{sql} <= %s")
        out += [*params, bound(value.high)]
    return "(" + " AND ".join(tests) + ")", out
