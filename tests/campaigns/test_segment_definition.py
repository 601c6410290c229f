"""Segment definitions are parsed strictly: typed values, errors that name the path, limits."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.segments.definition import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    Condition,
    Field,
    Group,
    Match,
    NumberRange,
    Op,
    SegmentInvalidError,
    parse,
    to_json,
)


def problems_of(definition) -> dict[str, list[str]]:
    with pytest.raises(SegmentInvalidError) as caught:
        parse(definition)
    return caught.value.problems


def test_a_definition_becomes_typed_conditions_and_round_trips():
    definition = {
        "match": "any",
        "conditions": [
            {"field": "attribute", "key": "age", "op": "between", "value": {"min": 18}},
            {"field": "attribute", "key": "joined", "op": "before", "value": "2024-05-01"},
            {"field": "domain", "op": "one_of", "value": ["Gmail.COM"]},
            {"match": "all", "conditions": [{"field": "opened", "op": "never"}]},
        ],
    }
    group = parse(definition)
    assert group == Group(
        Match.ANY,
        (
            Condition(Field.ATTRIBUTE, Op.BETWEEN, NumberRange(18.0, None), "age"),
            Condition(Field.ATTRIBUTE, Op.BEFORE, dt.date(2024, 5, 1), "joined"),
            Condition(Field.DOMAIN, Op.ONE_OF, ("gmail.com",)),
            Group(Match.ALL, (Condition(Field.OPENED, Op.NEVER),)),
        ),
    )
    assert parse(to_json(group)) == group


def test_a_bad_value_is_named_by_its_path():
    problems = problems_of(
        {
            "match": "all",
            "conditions": [
                {"field": "status", "op": "is", "value": "enabled"},
                {"field": "created", "op": "within_days", "value": 30},
                {"field": "attribute", "key": "age", "op": "between", "value": {"min": "ten"}},
            ],
        }
    )
    assert problems == {"conditions[2].value": ["“min” must be a finite number"]}


def test_every_problem_of_a_nested_group_is_reported_at_once():
    problems = problems_of(
        {
            "match": "both",
            "conditions": [
                {"match": "any", "conditions": [{"field": "colour", "op": "is"}]},
                {"field": "opened", "op": "campaign", "value": True},
                {"field": "created", "op": "after", "value": "2024-02-30"},
                {"field": "status", "op": "is", "value": "enabled", "key": "x"},
                {"field": "attribute", "op": "is_set"},
                "city = Berlin",
            ],
        }
    )
    assert set(problems) == {
        "match",
        "conditions[0].conditions[0].field",
        "conditions[1].value",
        "conditions[2].value",
        "conditions[3].key",
        "conditions[4].key",
        "conditions[5]",
    }
    assert problems["conditions[2].value"] == ["2024-02-30 is not a date"]
    assert problems["conditions[1].value"] == ["must be an id from 1 to 9223372036854775807"]


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "list", "op": "is", "value": 1}, "for list must be one of member_of,"),
        ({"field": "opened", "op": "any", "value": 3}, "any takes no value"),
        ({"field": "opened", "op": "not_in_last_days"}, "is missing"),
        (
            {"field": "attribute", "key": "n", "op": "between", "value": {"min": 5, "max": 1}},
            "“min” is greater",
        ),
        ({"field": "attribute", "key": "n", "op": "between", "value": {}}, "needs “min”, “max”"),
        (
            {"field": "attribute", "key": "n", "op": "between", "value": {"min": 1e308}},
            "out of range",
        ),
        (
            {"field": "attribute", "key": "n", "op": "one_of", "value": []},
            "a list of 1 to 100 texts",
        ),
        ({"field": "attribute", "key": "", "op": "is_set"}, "an attribute name of 1 to 100"),
        ({"field": "status", "op": "is", "value": "gone"}, "must be one of enabled,"),
        ({"field": "domain", "op": "equals", "value": "not a domain"}, "not a domain name"),
        ({"field": "created", "op": "within_days", "value": 0}, "a number of days from 1"),
    ],
)
def test_a_value_that_does_not_fit_its_operator_is_refused(condition, message):
    problems = problems_of({"match": "all", "conditions": [condition]})
    [(path, [found])] = problems.items()
    assert path.startswith("conditions[0].")
    assert message in found


def test_groups_nest_only_so_deep():
    definition = {"match": "all", "conditions": [{"field": "opened", "op": "any"}]}
    for _ in range(MAX_DEPTH - 1):
        definition = {"match": "all", "conditions": [definition]}
    parse(definition)  # as deep as allowed
    problems = problems_of({"match": "all", "conditions": [definition]})
    assert problems == {
        "conditions[0]" + ".conditions[0]" * (MAX_DEPTH - 1): [
            f"groups nest at most {MAX_DEPTH} deep"
        ]
    }


def test_a_segment_has_only_so_many_conditions():
    many = [{"field": "opened", "op": "any"}] * (MAX_CONDITIONS + 1)
    problems = problems_of({"match": "any", "conditions": many})
    assert problems == {
        f"conditions[{MAX_CONDITIONS}]": [f"a segment has at most {MAX_CONDITIONS} conditions"]
    }


def test_an_empty_nested_group_and_a_definition_that_is_no_object_are_refused():
    assert problems_of({"match": "all", "conditions": [{"match": "any", "conditions": []}]}) == {
        "conditions[0].conditions": ["a nested group needs at least one condition"]
    }
    assert problems_of([]) == {"definition": ["must be an object with “match” and “conditions”"]}
