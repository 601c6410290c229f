"""Pages for lists, templates and campaigns."""

from edm.views import empty_state


def list_index(request):
    return empty_state(
        request,
        title="Lists",
        message="No contact lists yet. Lists and contact import are the first thing to set up.",
        action="Open the admin",
        action_url="admin:index",
    )


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
