"""Messages that came back to us: bounces, complaints, auto-replies, unsubscribe mail."""

from django.db import models


class InboundMessage(models.Model):
    """A message that came back to us: a bounce, complaint, auto-reply or unsubscribe mail.

    Stored before anything else happens to it, so nothing received is ever lost; a job then
    processes it (delivery/inbound/processing.py) and says here what came of it. The raw
    text is dropped after EDM_INBOUND_KEEP_DAYS; what the parser read of it stays.
    """

    class Source(models.TextChoices):
        SMTP = "smtp", "bounce-in (SMTP)"
        MAILBOX = "mailbox", "mailbox poll"
        SES = "ses", "Amazon SES (SNS)"  # raw: the SNS notification's JSON
        SENDGRID = "sendgrid", "SendGrid webhook"  # raw: the event webhook's JSON array

    class State(models.TextChoices):
        RECEIVED = "received"
        PROCESSED = "processed"  # read and acted on (or nothing to do: an auto-reply)
        IGNORED = "ignored"  # not ours, forged, or about no delivery we know: `result` says why
        FAILED = "failed"  # could not be read: `error` says why

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
    result = models.CharField(max_length=1000, blank=True)
    parsed = models.JSONField(null=True, blank=True)  # what the parser read, for the Bounces page
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "received_at"])]

    def __str__(self) -> str:
        return f"inbound #{self.pk} from {self.mail_from or '<>'} ({self.state})"
