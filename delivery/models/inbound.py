"""Messages that came back to us: bounces, complaints, auto-replies, unsubscribe mail."""

from django.db import models


class InboundMessage(models.Model):
    """A message that came back to us: a bounce, complaint, auto-reply or unsubscribe mail.

    Stored before anything else happens to it, so nothing received is ever lost; the raw
    text is dropped after EDM_INBOUND_KEEP_DAYS.
    """

    class Source(models.TextChoices):
        SMTP = "smtp", "bounce-in (SMTP)"
        MAILBOX = "mailbox", "mailbox poll"
        WEBHOOK = "webhook", "provider webhook"

    class State(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"
        FAILED = "failed"

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    mail_from = models.CharField(max_length=998, blank=True)
    recipients = models.JSONField(default=list)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, unique=True)
    raw = models.BinaryField(null=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    kind = models.CharField(max_length=16, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "received_at"])]

    def __str__(self) -> str:
        return f"inbound #{self.pk} from {self.mail_from or '<>'} ({self.state})"
