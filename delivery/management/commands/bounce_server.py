"""Run bounce-in, the SMTP receiver for EDM_BOUNCE_DOMAIN: `python manage.py bounce_server`."""

from django.conf import settings
from django.core.management.base import BaseCommand

from delivery import smtpd
from delivery.inbound.client_limits import ClientLimits
from delivery.inbound.processing import inbound_process_enqueue
from delivery.inbound.receiver import BounceHandler


class Command(BaseCommand):
    help = "Receive bounces, complaints and unsubscribe mail for the bounce domain."

    def handle(self, *args, **options):
        host, port = settings.EDM_BOUNCE_LISTEN
        smtpd.run_until_signalled(
            BounceHandler(
                settings.EDM_BOUNCE_DOMAIN,
                secret=settings.SECRET_KEY,
                limits=ClientLimits(
                    max_connections=settings.EDM_BOUNCE_MAX_CONNECTIONS,
                    messages_per_minute=settings.EDM_BOUNCE_MESSAGES_PER_MINUTE,
                ),
                roles=settings.EDM_BOUNCE_ROLE_ADDRESSES,
                on_stored=inbound_process_enqueue,
            ),
            host=host,
            port=port,
            hostname=settings.EDM_HELO_NAME or settings.EDM_BOUNCE_DOMAIN,
            size_limit=settings.EDM_INBOUND_MAX_BYTES,
        )
