"""Reading templates for the pages: the index with how much each is used."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from campaigns.models import Campaign, Template


def template_summaries() -> QuerySet[Template]:
    """Every template, messages first, by name, with how many campaigns copied it
    (`copied_count`) and, for layouts, how many campaigns and templates use it."""
    copied = Campaign.objects.filter(template=OuterRef("pk")).values("template")
    laid_out = Campaign.objects.filter(layout=OuterRef("pk")).values("layout")
    users = Template.objects.filter(layout=OuterRef("pk")).values("layout")
    return (
        Template.objects.select_related("layout")
        .annotate(
            copied_count=_grouped(copied),
            laid_out_count=_grouped(laid_out),
            template_count=_grouped(users),
        )
        .order_by("-kind", "name")
    )


def _grouped(queryset: QuerySet) -> Coalesce:
    return Coalesce(Subquery(queryset.annotate(n=Count("pk")).values("n")[:1]), 0)
