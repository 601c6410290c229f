"""Run the capture SMTP server (capture mode): `python manage.py capture_server`."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand

from delivery.capture import serve_until_signalled


class Command(BaseCommand):
    help = "Keep every outgoing message on the Outbox page instead of delivering it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="default EDM_CAPTURE_PORT")

    def handle(self, *args, **options):
        port = options["port"] or settings.EDM_CAPTURE_PORT
        asyncio.run(serve_until_signalled("127.0.0.1", port))
