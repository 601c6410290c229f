"""WSGI entry point for gunicorn: `gunicorn edm.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edm.settings")
application = get_wsgi_application()

# Imported once Django is set up: the tracking endpoints skip the middleware stack.
from delivery.engagement.wsgi import TrackingDispatcher  # noqa: E402

application = TrackingDispatcher(application)
