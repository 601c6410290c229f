"""What the template and campaign editors share: problems of sources shown by form field."""

from __future__ import annotations

from campaigns.templating import Part, Problem

# The form field a part's problems are shown next to. A layout's own source is the editor's
# HTML field; for a message, the layout is the one chosen in the layout field.
_FIELDS = {Part.SUBJECT: "subject", Part.HTML: "html", Part.TEXT: "text", Part.LAYOUT: "layout"}


def problems_by_field(
    problems: dict[Part, list[Problem]], *, layout_kind: bool = False
) -> dict[str, list[Problem]]:
    """Problems keyed by the form field that shows them."""
    by_field: dict[str, list[Problem]] = {}
    for part, found in problems.items():
        field = "html" if layout_kind and part is Part.LAYOUT else _FIELDS[Part(part)]
        by_field.setdefault(field, []).extend(found)
    return by_field


def problems_json(problems: dict[str, list[Problem]]) -> dict[str, list[dict]]:
    """Problems by field as JSON for the live preview."""
    return {
        field: [{"line": p.line, "column": p.column, "message": p.message} for p in found]
        for field, found in problems.items()
    }
