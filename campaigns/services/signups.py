"""Signing up through a form: what a submission does, and what confirming it does.

The view checks only what does not depend on the address (the stamp, the honeypot, the
client's rate) and then queues `signup_process` for every well-formed submission, so the
answer, its status and its timing are the same whoever the address belongs to. The job
decides, quietly:

    suppressed address or domain      nothing is stored or sent
    too many confirmations today      nothing is stored or sent
                                      (EDM_SIGNUP_MAILS_PER_ADDRESS_PER_DAY)
    double opt-in                     pending Consent rows, memberships UNCONFIRMED for lists the
                                      contact is not on, a confirmation email through the tx lane
    single opt-in                     subscribed and consent confirmed at once, the welcome
                                      email; but a list the person had left needs confirming,
                                      since anyone can type anyone's address into a form

Someone already subscribed gets the confirmation email like anyone else: it tells the
owner of the address that somebody used it, confirming records a fresh consent and changes
nothing else, and the visitor learns nothing either way.

An anonymous visitor never changes an existing contact's name or attributes: those are
taken from the form only for a contact this sign-up creates.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns import signup_limits
from campaigns.emails import InvalidEmailError, normalize_email
from campaigns.models import Consent, Contact, ContactList, Membership, SignupForm
from campaigns.selectors.contact_search import contact_by_email
from campaigns.selectors.suppressions import email_is_suppressed
from campaigns.services import signup_mail
from campaigns.signup_tokens import Confirmation
from delivery import jobs_queue
from edm import queues

logger = logging.getLogger(__name__)
JOB_TIMEOUT = 120


@dataclass(frozen=True)
class Submission:
    """A well-formed submission, as plain values a job can carry."""

    form_id: int
    email: str  # normalized
    name: str = ""
    attributes: dict = field(default_factory=dict)
    list_ids: list[int] = field(default_factory=list)
    consent_text: str = ""
    client_address: str | None = None
    user_agent: str = ""
    requested_at: str = ""  # ISO 8601, UTC


class SignupOutcome(NamedTuple):
    """What the job did; never shown to the visitor."""

    kind: str  # "ignored" | "confirmation-sent" | "subscribed"
    reason: str = ""


class SignupLinkExpiredError(Exception):
    """The confirmation link is older than EDM_SIGNUP_CONFIRM_DAYS."""


class SignupGoneError(Exception):
    """The form or the contact of a confirmation link no longer exists."""


class SignupConfirmed(NamedTuple):
    form: SignupForm
    contact: Contact
    lists: list[ContactList]


def signup_submit(submission: Submission) -> None:
    """Queue the submission's job (on commit; the same for every address)."""
    jobs_queue.enqueue_on_commit(
        queues.TRANSACTIONAL,
        "campaigns.jobs.signup_process",
        asdict(submission),
        timeout=JOB_TIMEOUT,
    )


def signup_process(values: dict) -> SignupOutcome:
    """The job of one submission: see the module docstring."""
    submission = Submission(**values)
    form = SignupForm.objects.filter(pk=submission.form_id, active=True).first()
    if form is None:
        return SignupOutcome("ignored", "the form is gone or switched off")
    try:
        address = normalize_email(submission.email)
    except InvalidEmailError:
        return SignupOutcome("ignored", "not an address")
    if email_is_suppressed(address.email):
        return SignupOutcome("ignored", "suppressed")
    lists = list(form.lists.filter(pk__in=submission.list_ids))
    if not lists:
        return SignupOutcome("ignored", "no list of this form")
    now = timezone.now()
    requested_at = (
        dt.datetime.fromisoformat(submission.requested_at) if submission.requested_at else now
    )
    with transaction.atomic():
        contact = _contact_for(address, submission)
        if Consent.objects.filter(contact=contact, form=form, requested_at=requested_at).exists():
            # RQ ran this job before (a worker died after committing): done already.
            return SignupOutcome("ignored", "processed before")
        current = dict(
            Membership.objects.filter(contact=contact, list__in=lists).values_list(
                "list_id", "status"
            )
        )
        if form.double_opt_in:
            pending = lists
        else:
            # A list the person left is only rejoined by the address's owner confirming.
            pending = [
                item for item in lists if current.get(item.pk) == Membership.Status.UNSUBSCRIBED
            ]
        if pending and not signup_limits.confirmation_mail_allowed(address.email):
            transaction.set_rollback(True)  # a new contact made just now is not kept either
            return SignupOutcome("ignored", "too many confirmations to this address today")
        joined = [item for item in lists if item not in pending]
        for item in lists:
            Consent.objects.create(
                contact=contact,
                list=item,
                form=form,
                method=Consent.Method.FORM,
                text=submission.consent_text,
                client_address=submission.client_address,
                user_agent=submission.user_agent,
                requested_at=requested_at,
                confirmed_at=None if item in pending else now,
            )
            if item.pk not in current:
                Membership.objects.create(
                    list=item,
                    contact=contact,
                    status=Membership.Status.UNCONFIRMED
                    if item in pending
                    else Membership.Status.SUBSCRIBED,
                    created_at=now,
                    updated_at=now,
                )
        _subscribe(contact, [item for item in joined if item.pk in current], now)
        if pending:
            confirmation = Confirmation(form.pk, contact.pk, int(now.timestamp()))
            signup_mail.confirmation_send(form, contact, pending, confirmation)
        if joined:
            signup_mail.welcome_send(form, contact, joined)
    return SignupOutcome("confirmation-sent" if pending else "subscribed")


def signup_confirm(confirmation: Confirmation) -> SignupConfirmed:
    """Subscribe what a confirmation link's sign-up asked for and record the consent confirmed.

    Confirms the pending consents of this contact through this form requested up to the
    link's time; a second click confirms nothing new and answers the same. Raises
    SignupLinkExpiredError or SignupGoneError.
    """
    issued = dt.datetime.fromtimestamp(confirmation.issued_at, dt.UTC)
    now = timezone.now()
    if now - issued > dt.timedelta(days=settings.EDM_SIGNUP_CONFIRM_DAYS):
        raise SignupLinkExpiredError("This confirmation link has expired.")
    form = SignupForm.objects.filter(pk=confirmation.form_id).first()
    contact = Contact.objects.filter(pk=confirmation.contact_id).first()
    if form is None or contact is None:
        raise SignupGoneError("This sign-up no longer exists.")
    with transaction.atomic():
        pending = Consent.objects.select_for_update().filter(
            contact=contact,
            form=form,
            confirmed_at__isnull=True,
            requested_at__lte=issued + dt.timedelta(seconds=1),
        )
        list_ids = {consent.list_id for consent in pending}
        pending.update(confirmed_at=now)
        lists = list(ContactList.objects.filter(pk__in=list_ids))
        _subscribe(contact, lists, now)
        if lists:
            signup_mail.welcome_send(form, contact, lists)
    return SignupConfirmed(form, contact, lists)


def _contact_for(address, submission: Submission) -> Contact:
    """The address's contact, created with the form's name and attributes if it is new.

    Found through `contact_by_email`, which matches the address without case."""
    contact = contact_by_email(address.email)
    if contact is not None:
        return contact
    try:
        with transaction.atomic():
            return Contact.objects.create(
                email=address.email,
                email_key=address.key,
                domain=address.domain,
                name=submission.name.strip(),
                attributes=submission.attributes,
                status=Contact.Status.ENABLED,  # not suppressed: checked before
            )
    except IntegrityError:  # created at the same moment by another job or an import
        return contact_by_email(address.email)


def _subscribe(contact: Contact, lists: list[ContactList], now) -> None:
    Membership.objects.filter(contact=contact, list__in=lists).exclude(
        status=Membership.Status.SUBSCRIBED
    ).update(status=Membership.Status.SUBSCRIBED, updated_at=now)
