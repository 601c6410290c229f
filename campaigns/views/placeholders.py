"""Sections not built yet: templates."""

from edm.views import empty_state


def template_index(request):
    return empty_state(
        request,
        title="Templates",
        message="No templates yet. Create a list first so previews have contacts to show.",
        action="Go to lists",
        action_url="campaigns:list_index",
    )
