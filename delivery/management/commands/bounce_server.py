"""Run bounce-in, the SMTP receiver for EDM_BOUNCE_DOMAIN: `python manage.py bounce_server`."""

from django.conf import settings
from django.core.management.base import BaseCommand

from delivery import smtpd
from delivery.inbound.processing import inbound_process_enqueue
from delivery.inbound.receiver import BounceHandler


class Command(BaseCommand):
    help = "Receive bounces, complaints and unsubscribe mail for the bounce domain."

    def handle(self, *args, **options):
        host, port = settings.EDM_BOUNCE_LISTEN
        smtpd.run_until_signalled(
            BounceHandler(settings.EDM_BOUNCE_DOMAIN, on_stored=inbound_process_enqueue),
            host=host,
            port=port,
            hostname=settings.EDM_HELO_NAME or settings.EDM_BOUNCE_DOMAIN,
            size_limit=settings.EDM_INBOUND_MAX_BYTES,
        )
