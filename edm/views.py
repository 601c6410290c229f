"""The shell's own pages: overview, health probe, and the empty-state page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from delivery.selectors.overview import overview_get
from edm.health import health_check


@login_not_required
@require_GET
def healthz(request):
    """Database and Redis state as JSON; 503 when either does not answer (for load balancers).
    Staff see why; telling who is staff reads the session from the database, so while that
    is down everyone gets the short answer."""
    health = health_check()
    details = health.database.ok and request.user.is_staff
    return JsonResponse(health.as_dict(details=details), status=200 if health.ok else 503)


def empty_state(request, *, title: str, message: str, action: str, action_url: str):
    """A page that has nothing to show yet, pointing at what to do first."""
    return render(
        request,
        "empty_state.html",
        {"title": title, "message": message, "action": action, "action_url": reverse(action_url)},
    )


@require_GET
def overview(request):
    """What is going out now, what waits, and what needs attention (delivery/selectors)."""
    return render(request, "overview.html", {"overview": overview_get()})
