"""The shell's own pages: overview, health probe, and the empty-state page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from edm.health import health_check


@login_not_required
@require_GET
def healthz(request):
    """Database and Redis state as JSON; 503 when either does not answer (for load balancers)."""
    health = health_check()
    return JsonResponse(health.as_dict(), status=200 if health.ok else 503)


def empty_state(request, *, title: str, message: str, action: str, action_url: str):
    """A page that has nothing to show yet, pointing at what to do first."""
    return render(
        request,
        "empty_state.html",
        {"title": title, "message": message, "action": action, "action_url": reverse(action_url)},
    )


def overview(request):
    return empty_state(
        request,
        title="Overview",
        message="No campaigns have been sent yet. Start by creating a contact list.",
        action="Go to lists",
        action_url="campaigns:list_index",
    )
