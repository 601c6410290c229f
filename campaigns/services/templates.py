"""Saving templates: only valid Jinja2 is saved; warnings are returned for the page to show."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from campaigns.models import Template
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


def template_delete(template: Template) -> None:
    """Delete a template; campaigns keep the content they copied from it."""
    template.delete()
