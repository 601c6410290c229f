"""The tracking endpoints served in front of Django's middleware stack.

A redirect or a pixel needs no session, CSRF check, user, messages or URL resolver over
every page, yet in-process those cost ~70 % of such a request (docs/BENCHMARKS.md,
"Engagement tracking"). `TrackingDispatcher` wraps the WSGI application: a GET or HEAD of
`/l/<token>` or `/o/<token>.gif` goes straight to the same views (delivery/engagement/
views.py), everything else to Django. Django's request signals are sent as its handler sends
them, so database connections are looked after the same way.
"""

from __future__ import annotations

import re

from django.core import signals
from django.core.handlers.wsgi import WSGIRequest

from delivery.engagement import views

_ROUTES = (
    (re.compile(r"/l/([^/]+)"), views.click),
    (re.compile(r"/o/([^/]+)\.gif"), views.open_pixel),
)


class TrackingDispatcher:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(("/l/", "/o/")):
            for pattern, view in _ROUTES:
                match = pattern.fullmatch(path)
                if match is not None:
                    return self._answer(view, match.group(1), environ, start_response)
        return self.application(environ, start_response)

    def _answer(self, view, token, environ, start_response):
        signals.request_started.send(sender=self.__class__, environ=environ)
        response = view(WSGIRequest(environ), token)
        response["X-Content-Type-Options"] = "nosniff"
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        # The server calls close() on the response: Django's request_finished is sent there.
        return response
