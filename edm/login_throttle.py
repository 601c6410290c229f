"""What django-axes asks of us to throttle logins: who the client is, and the lockout page.

Axes counts failed logins on /login/ and /admin/login/ alike and locks out a username, or a
client address, that fails `AXES_FAILURE_LIMIT` times within `AXES_COOLOFF_TIME`; its
authentication backend then refuses even the right password until the window has passed
(edm/settings.py has the configuration, docs/SECURITY.md the reasons).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str | None:
    """The address a login came from: REMOTE_ADDR, or the header our own proxy sets.

    Only a header named in EDM_CLIENT_IP_HEADER is read, because any client can send
    X-Forwarded-For: trusting it by default would let an attacker pick a new address for
    every guess. Of a list (X-Forwarded-For), the last entry is the one our proxy appended.
    A value that is no address falls back to REMOTE_ADDR: axes stores the address in an IP
    column (PostgreSQL's inet refuses anything else, and the login would fail with a 500).
    """
    header = settings.EDM_CLIENT_IP_HEADER
    forwarded = request.META.get(header, "") if header else ""
    candidate = forwarded.split(",")[-1].strip()
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return request.META.get("REMOTE_ADDR")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The login page with a 429 saying how long logging in is blocked (axes' lockout callable)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "locked_out_minutes": minutes, "next": request.POST.get("next", "")},
        status=429,
    )
    # Axes restarts the window on every failure during a lockout, so the full window is the
    # honest answer to "when may I retry".
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
