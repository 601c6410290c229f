"""The capture-mode outbox."""

from django.db import models


class CapturedMessage(models.Model):
    """A message kept by the capture SMTP server instead of being delivered (capture mode)."""

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    mail_from = models.CharField(max_length=998, blank=True)
    recipients = models.JSONField(default=list)
    from_header = models.CharField(max_length=998, blank=True)
    to_header = models.TextField(blank=True)
    subject = models.TextField(blank=True)
    message_id = models.CharField(max_length=998, blank=True, db_index=True)
    size = models.PositiveIntegerField()
    raw = models.BinaryField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.subject or '(no subject)'} → {', '.join(self.recipients)}"
