"""Run the capture SMTP server (capture mode): `python manage.py capture_server`."""

from django.conf import settings
from django.core.management.base import BaseCommand

from delivery import capture, smtpd


class Command(BaseCommand):
    help = "Keep every outgoing message on the Outbox page instead of delivering it."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="default EDM_CAPTURE_PORT")

    def handle(self, *args, **options):
        smtpd.run_until_signalled(
            capture.CaptureHandler(),
            host="127.0.0.1",
            port=options["port"] or settings.EDM_CAPTURE_PORT,
            hostname=capture.HOSTNAME,
            size_limit=capture.MAX_MESSAGE_BYTES,
        )
