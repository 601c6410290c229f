"""Contacts, lists, and the membership of a contact in a list."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone

NAME_MAX_LENGTH = 255


class ContactList(models.Model):
    """A named group of contacts that campaigns are sent to."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaigns:list_detail", args=[self.pk])


class Contact(models.Model):
    """One person, unique by email address compared without the local part's case.

    `email` is the address as email-validator normalizes it: the local part as first written
    (kept for display and sending), the domain lower-cased and, for IDN domains, in Unicode
    (NFC). `email_key` is the same with the local part lower-cased
    (`campaigns.emails.email_key`): every lookup by address and the uniqueness go through it,
    because providers deliver `USER7@Sina.com` and `user7@sina.com` to one mailbox. `domain`
    is that domain, kept apart so planning can exclude suppressed domains with an index.
    """

    class Status(models.TextChoices):
        ENABLED = "enabled", "enabled"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"
        BOUNCED = "bounced", "bounced"
        COMPLAINED = "complained", "complained"
        BLOCKLISTED = "blocklisted", "blocklisted"

    # Few indexes on purpose: each one costs every imported row. `domain` has none:
    # suppressed domains are found by looking the domain up in Suppression, not the reverse.
    # A prefix index on lower(name) is created by migration 0002 (its SQL differs per vendor).
    # `email` has none: the unique index on `email_key` serves lookups, prefix search and
    # keyset pages (in "C" collation on PostgreSQL, like 0002 set up for the address).
    email = models.CharField(max_length=254)
    email_key = models.CharField(max_length=254, unique=True)
    domain = models.CharField(max_length=253)
    name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ENABLED)
    # The person asked not to be tracked: their messages get no pixel and no rewritten links.
    # db_default: imports insert contacts with set-based SQL that does not name this column.
    do_not_track = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Partial: only the few contacts that are not enabled are in it, so imports (which
        # create enabled contacts) never write it, and list pages count them from it.
        indexes = [
            models.Index(
                fields=["status"],
                condition=~models.Q(status="enabled"),
                name="contact_not_enabled",
            )
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def sendable(self) -> bool:
        return self.status == self.Status.ENABLED


class Membership(models.Model):
    """A contact on a list, with its own subscription status."""

    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed", "subscribed"
        UNSUBSCRIBED = "unsubscribed", "unsubscribed"
        # Signed up through a double opt-in form, the address has not confirmed yet: never
        # sent campaigns (every audience selects SUBSCRIBED only).
        UNCONFIRMED = "unconfirmed", "waiting for confirmation"

    # No database-level foreign keys here, on purpose: checking both for every imported row
    # (a lookup and a row lock on the contact) doubled the import's database time (measured
    # on PostgreSQL: 37 µs a row with them, 17 µs without). Deletes still cascade, through
    # Django's collector (one DELETE … WHERE list_id / contact_id); rows are only ever
    # written by code that has just read or inserted the contact and list.
    # The unique (list, contact) constraint's index serves lookups by list.
    list = models.ForeignKey(
        ContactList,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="memberships", db_constraint=False
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBSCRIBED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["list", "contact"], name="membership_once_per_list")
        ]
        # Partial, like contact_not_enabled: imports add subscribed memberships only.
        indexes = [
            models.Index(
                fields=["list"],
                condition=models.Q(status="unsubscribed"),
                name="membership_unsubscribed",
            ),
            models.Index(
                fields=["list"],
                condition=models.Q(status="unconfirmed"),
                name="membership_unconfirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} on {self.list_id} ({self.status})"
