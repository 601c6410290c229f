"""Saving templates: only valid Jinja2 is saved; warnings are returned for the page to show."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from campaigns.models import Campaign, Template
from campaigns.templating import Content, Part, Problem, validate, validate_content


class TemplateInvalidError(ValueError):
    """A source has errors; nothing was saved. `problems` lists them by part."""

    def __init__(self, problems: dict[Part, list[Problem]]):
        self.problems = problems
        super().__init__(
            "; ".join(f"{part}: {problem}" for part, found in problems.items() for problem in found)
        )


@dataclass(frozen=True)
class Saved:
    template: Template
    warnings: dict[Part, list[Problem]]


def content_check(content: Content, *, layout_kind: bool = False) -> dict[Part, list[Problem]]:
    """Warnings of valid content; raises TemplateInvalidError when any part has errors."""
    if layout_kind:
        results = {Part.LAYOUT: validate(content.html, Part.LAYOUT)}
    else:
        results = validate_content(content)
    errors = {part: found.errors for part, found in results.items() if found.errors}
    if errors:
        raise TemplateInvalidError(errors)
    return {part: found.warnings for part, found in results.items() if found.warnings}


def template_save(
    template: Template | None,
    *,
    name: str,
    kind: str,
    subject: str,
    html: str,
    text: str,
    layout: Template | None,
) -> Saved:
    """Create or update a template after validating every part; TemplateInvalidError if not."""
    is_layout = kind == Template.Kind.LAYOUT
    warnings = content_check(
        Content(subject=subject, html=html, text=text, layout=layout.html if layout else ""),
        layout_kind=is_layout,
    )
    template = template or Template()
    template.name, template.kind = name.strip(), kind
    template.subject, template.html, template.text = subject, html, text
    template.layout = None if is_layout else layout
    template.updated_at = timezone.now()
    with transaction.atomic():
        template.save()
    return Saved(template, warnings)


class TemplateInUseError(Exception):
    """A layout that templates or campaigns use cannot be deleted."""


def template_delete(template: Template) -> None:
    """Delete a template; campaigns keep the content they copied from it.

    Raises TemplateInUseError for a layout still used by a template or a campaign.
    """
    templates = template.used_by.order_by("name").values_list("name", flat=True)
    campaigns = Campaign.objects.filter(layout=template).order_by("name")
    users = [*templates[:3], *campaigns.values_list("name", flat=True)[:3]]
    if users:
        more = templates.count() + campaigns.count() - len(users[:3])
        names = ", ".join(f"“{name}”" for name in users[:3])
        raise TemplateInUseError(
            f"“{template.name}” is the layout of {names}{f' and {more} more' if more else ''}"
            " and cannot be deleted while they use it."
        )
    try:
        template.delete()
    except ProtectedError:  # became a layout of something since the check above
        raise TemplateInUseError(
            f"“{template.name}” is in use as a layout and cannot be deleted."
        ) from None


def template_duplicate(template: Template) -> Template:
    """A copy named “<name> (copy)” (or “(copy 2)”… when taken), with the same content."""
    base = template.name[:180]  # room for the suffix within the name's 200 characters
    taken = set(
        Template.objects.filter(name__startswith=f"{base} (copy").values_list("name", flat=True)
    )
    name, number = f"{base} (copy)", 2
    while name in taken:
        name, number = f"{base} (copy {number})", number + 1
    now = timezone.now()
    return Template.objects.create(
        name=name,
        kind=template.kind,
        subject=template.subject,
        html=template.html,
        text=template.text,
        layout=template.layout,
        created_at=now,
        updated_at=now,
    )
