"""Read bounces from EDM_BOUNCE_MAILBOX_URL: `python manage.py poll_bounces`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from delivery.inbound.mailbox import MailboxError, mailbox_address, poll
from delivery.inbound.processing import inbound_message_receive
from delivery.models import InboundMessage


class Command(BaseCommand):
    help = "Fetch bounces and complaints from a mailbox (IMAP or POP3 over TLS) and record them."

    def add_arguments(self, parser):
        parser.add_argument("--url", help="mailbox URL (default EDM_BOUNCE_MAILBOX_URL)")
        parser.add_argument("--limit", type=int, default=500, help="messages per run")

    def handle(self, *args, **options):
        url = options["url"] or settings.EDM_BOUNCE_MAILBOX_URL
        if not url:
            raise CommandError("No mailbox: set EDM_BOUNCE_MAILBOX_URL or pass --url.")
        try:
            result = poll(mailbox_address(url), _store, limit=options["limit"])
        except MailboxError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{result.stored} of {result.fetched} messages recorded.")


def _store(raw: bytes) -> None:
    # Recorded (and its processing job enqueued) before the poller removes it from the server.
    inbound_message_receive(source=InboundMessage.Source.MAILBOX, raw=raw)
