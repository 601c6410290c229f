"""Sections not built yet: templates and campaigns."""

from edm.views import empty_state


def template_index(request):
    return empty_state(
        request,
        title="Templates",
        message="No templates yet. Create a list first so previews have contacts to show.",
        action="Go to lists",
        action_url="campaigns:list_index",
    )


def campaign_index(request):
    return empty_state(
        request,
        title="Campaigns",
        message="No campaigns yet. A campaign needs a list with contacts and a template.",
        action="Go to lists",
        action_url="campaigns:list_index",
    )
