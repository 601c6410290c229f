"""The Content-Security-Policy of every page that does not set a stricter one of its own.

Our own middleware rather than django-csp: the policy is one constant with no per-view
variations and no nonces (no page has an inline script or style), so a library would add
a dependency and a settings vocabulary for the same header.
"""

from __future__ import annotations

from django.conf import settings

POLICY = "; ".join(
    (
        "default-src 'self'",
        # Scripts and stylesheets only as files from static/: an injected <script>, onclick=
        # or style= does nothing. Charts are drawn by uPlot through the CSSOM, which CSP
        # allows; bars are SVG rects (a width attribute is not a style).
        "script-src 'self'",
        "style-src 'self'",
        # data: for the icons stylesheets embed (Swagger UI on /api/docs).
        "img-src 'self' data:",
        # The previews are our own pages in iframes; as X-Frame-Options SAMEORIGIN says.
        "frame-ancestors 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)


class ContentSecurityPolicyMiddleware:
    """Adds POLICY to responses that have no Content-Security-Policy yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Django's debug pages (DEBUG only) are built with inline styles and scripts.
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        # The Outbox, previews and view-online serve mail HTML under their own sandboxing
        # policy (delivery/views/outbox.py): that one must win.
        response.setdefault("Content-Security-Policy", POLICY)
        return response
