"""Provider webhooks for relay users: Amazon SES (through SNS) and SendGrid's event webhook.

Public endpoints: no login, no CSRF token; what authenticates a request is its signature.
A webhook that is not configured does not exist (404); a request that is not signed by the
provider with the configured key, is stale (SendGrid), or is for another SNS topic, is refused
(403) and changes nothing. A genuine notification is stored and processed by a job, like a
mailed bounce.

Every answer but the 200 is JSON in the API's error shape, in fixed words: a page on another
site can post anything here, and nothing it sent may come back as something a browser runs.
"""

from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from delivery.inbound.processing import inbound_message_receive
from delivery.models import InboundMessage
from delivery.webhooks import sendgrid, sns
from edm.rest.errors import error_body

logger = logging.getLogger(__name__)


class _TooLargeError(Exception):
    """The body is over EDM_INBOUND_MAX_BYTES (the limit of a mailed bounce too)."""


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(status, message), status=status)


def webhook(view):
    """A provider's endpoint: POST only, no login or CSRF token, and errors answered as JSON."""

    @csrf_exempt
    @login_not_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            response = _error(405, "Only POST is allowed here.")
            response["Allow"] = "POST"
            return response
        try:
            return view(request, *args, **kwargs)
        except _TooLargeError:
            limit = settings.EDM_INBOUND_MAX_BYTES
            return _error(413, f"The request body is over the limit of {limit} bytes.")

    return wrapped


def _body(request) -> bytes:
    try:
        body = request.body
    except RequestDataTooBig:  # over DATA_UPLOAD_MAX_MEMORY_SIZE: not even read
        raise _TooLargeError from None
    if len(body) > settings.EDM_INBOUND_MAX_BYTES:
        raise _TooLargeError
    return body


def _refused(request, provider: str, exc: Exception) -> JsonResponse:
    address = request.META.get("REMOTE_ADDR")
    logger.warning("refused a %s request from %s: %s", provider, address, exc)
    return _error(403, f"Refused: {exc}.")


@webhook
def ses_webhook(request):
    """SNS: confirm the subscription, or take a notification carrying an SES event."""
    topic, certificate = settings.EDM_SES_TOPIC_ARN, settings.EDM_SES_CERT_PATH
    if not topic or not certificate:
        return _error(404, "The Amazon SES webhook is not configured.")
    try:
        key = sns.certificate_key(Path(certificate).read_bytes())
    except (OSError, ValueError) as exc:
        logger.error("EDM_SES_CERT_PATH cannot be used: %s", exc)
        return _error(503, "The webhook certificate is misconfigured.")
    body = _body(request)
    try:
        document = sns.message_read(body)
        sns.verify(document, key=key, topic_arn=topic)
        if document["Type"] == sns.SUBSCRIPTION_CONFIRMATION:
            sns.subscription_confirm(sns.subscribe_url(document))
    except sns.RefusedMessageError as exc:
        return _refused(request, "SNS", exc)
    except OSError as exc:  # the confirmation URL did not answer: SNS sends it again
        logger.error("could not confirm the SNS subscription: %s", exc)
        return _error(502, "Could not confirm the subscription.")
    if document["Type"] == sns.NOTIFICATION:
        inbound_message_receive(source=InboundMessage.Source.SES, raw=body)
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")


@webhook
def sendgrid_webhook(request):
    """SendGrid's signed event webhook: a batch of events."""
    key = settings.EDM_SENDGRID_WEBHOOK_KEY
    if not key:
        return _error(404, "The SendGrid webhook is not configured.")
    try:
        public_key = sendgrid.public_key(key)
    except ValueError as exc:
        logger.error("EDM_SENDGRID_WEBHOOK_KEY cannot be used: %s", exc)
        return _error(503, "The webhook key is misconfigured.")
    body = _body(request)
    try:
        sendgrid.verify(
            body,
            signature=request.headers.get(sendgrid.SIGNATURE_HEADER),
            timestamp=request.headers.get(sendgrid.TIMESTAMP_HEADER),
            key=public_key,
            now=time.time(),
        )
        sendgrid.events_check(body)
    except sendgrid.RefusedRequestError as exc:
        return _refused(request, "SendGrid", exc)
    except sendgrid.UnreadableEventsError:
        return _error(400, "The body is not a JSON list of events.")
    inbound_message_receive(source=InboundMessage.Source.SENDGRID, raw=body)
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")
