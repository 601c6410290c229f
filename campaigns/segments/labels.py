"""What the audience builder calls each field and operator (the words of its drop-downs)."""

from __future__ import annotations

from campaigns.segments.definition import Field, Op

FIELD_LABELS = {
    Field.ATTRIBUTE: "Attribute",
    Field.STATUS: "Contact status",
    Field.LIST: "List",
    Field.CREATED: "Added",
    Field.DOMAIN: "Email domain",
    Field.OPENED: "Opened",
    Field.CLICKED: "Clicked",
    Field.RECEIVED: "Campaign",
}

# (field, operator) -> label; the field is there because "campaign" reads differently after
# "Opened" than after "Campaign".
OP_LABELS = {
    (Field.ATTRIBUTE, Op.EQUALS): "is",
    (Field.ATTRIBUTE, Op.CONTAINS): "contains",
    (Field.ATTRIBUTE, Op.ONE_OF): "is one of",
    (Field.ATTRIBUTE, Op.BETWEEN): "is a number between",
    (Field.ATTRIBUTE, Op.BEFORE): "is a date before",
    (Field.ATTRIBUTE, Op.AFTER): "is a date after",
    (Field.ATTRIBUTE, Op.IS_SET): "is set",
    (Field.ATTRIBUTE, Op.IS_NOT_SET): "is not set",
    (Field.STATUS, Op.IS): "is",
    (Field.STATUS, Op.IS_NOT): "is not",
    (Field.LIST, Op.SUBSCRIBED_TO): "subscribed to",
    (Field.LIST, Op.MEMBER_OF): "on (any status)",
    (Field.LIST, Op.NOT_MEMBER_OF): "not on",
    (Field.CREATED, Op.BEFORE): "before",
    (Field.CREATED, Op.AFTER): "after",
    (Field.CREATED, Op.WITHIN_DAYS): "in the last N days",
    (Field.DOMAIN, Op.EQUALS): "is",
    (Field.DOMAIN, Op.ONE_OF): "is one of",
    (Field.OPENED, Op.ANY): "any campaign",
    (Field.OPENED, Op.CAMPAIGN): "the campaign",
    (Field.OPENED, Op.NOT_IN_LAST_DAYS): "nothing in the last N days (mailed contacts)",
    (Field.OPENED, Op.NEVER): "never (mailed contacts)",
    (Field.CLICKED, Op.ANY): "any campaign",
    (Field.CLICKED, Op.CAMPAIGN): "the campaign",
    (Field.RECEIVED, Op.CAMPAIGN): "received",
    (Field.RECEIVED, Op.NOT_OPENED): "received and did not open",
    (Field.RECEIVED, Op.NOT_CLICKED): "received and did not click",
    (Field.RECEIVED, Op.FAILED): "failed or expired for them",
}
