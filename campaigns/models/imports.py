"""Imports of contact files into a list, and the rows they rejected."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from campaigns.models.contacts import ContactList


def _no_columns() -> list:
    return []


class Import(models.Model):
    """One uploaded contact file: its reading choices, its progress and its outcome.

    Counters are committed in the same transaction as the batch of rows they describe, so
    after a crash they say exactly which rows are done (`rows_done`) and the job resumes there.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "waiting for column mapping"
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    class Mode(models.TextChoices):
        ADD_UPDATE = "add_update", "Add new contacts and update existing ones"
        ADD_ONLY = "add_only", "Add new contacts only (leave existing ones as they are)"
        BLOCKLIST = "blocklist", "Blocklist these addresses"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        ZIP = "zip", "CSV in a ZIP"
        XLSX = "xlsx", "Excel (XLSX)"

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)

    list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ADD_UPDATE)

    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)  # relative to the uploads directory
    file_size = models.BigIntegerField()
    file_format = models.CharField(max_length=8, choices=Format.choices)
    detected_encoding = models.CharField(max_length=32, blank=True)
    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)

    header = models.JSONField(default=_no_columns)
    email_column = models.PositiveIntegerField(null=True, blank=True)
    name_column = models.PositiveIntegerField(null=True, blank=True)
    attribute_columns = models.JSONField(default=_no_columns)

    bytes_done = models.BigIntegerField(default=0)
    rows_read = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    created = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    added = models.BigIntegerField(default=0)
    already_on_list = models.BigIntegerField(default=0)
    duplicates = models.BigIntegerField(default=0)
    invalid = models.BigIntegerField(default=0)
    warnings = models.BigIntegerField(default=0)  # rows imported with a change (ImportWarning)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Two imports into one list never interleave: at most one is queued or running.
            models.UniqueConstraint(
                fields=["list"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_import_per_list",
            )
        ]

    def __str__(self) -> str:
        return f"import #{self.pk} of {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("campaigns:import_detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.file_size:
            return 0
        return min(99, int(self.bytes_done * 100 / self.file_size))

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def rejected(self) -> int:
        return self.invalid + self.duplicates


class ImportRejection(models.Model):
    """A row of an import's file that did not become a contact, and why."""

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="rejections")
    row = models.BigIntegerField()  # as a spreadsheet numbers it: the header is row 1
    reason = models.CharField(max_length=200)
    value = models.TextField(blank=True)  # the email cell as it was in the file

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["import_run", "row"], name="rejection_once_per_row")
        ]
        ordering = ["import_run", "row"]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


class ImportWarning(models.Model):
    """A row of an import's file that became a contact, but not exactly as written (a name
    cut to the limit): the file's owner should know, the row need not be lost for it."""

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="row_warnings")
    row = models.BigIntegerField()  # as a spreadsheet numbers it: the header is row 1
    message = models.CharField(max_length=200)
    value = models.TextField(blank=True)  # the email cell as it was in the file

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["import_run", "row"], name="warning_once_per_row")
        ]
        ordering = ["import_run", "row"]

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"
