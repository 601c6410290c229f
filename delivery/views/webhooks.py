"""Provider webhooks for relay users: Amazon SES (through SNS) and SendGrid's event webhook.

Public endpoints: no login, no CSRF token; what authenticates a request is its signature.
A webhook that is not configured does not exist (404); a request that is not signed by the
provider with the configured key, or is for another SNS topic, is refused (403) and changes
nothing. A genuine notification is stored and processed by a job, like a mailed bounce.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from delivery.inbound.processing import inbound_message_receive
from delivery.models import InboundMessage
from delivery.webhooks import sendgrid, sns

logger = logging.getLogger(__name__)


@csrf_exempt
@login_not_required
@require_POST
def ses_webhook(request):
    """SNS: confirm the subscription, or take a notification carrying an SES event."""
    topic, certificate = settings.EDM_SES_TOPIC_ARN, settings.EDM_SES_CERT_PATH
    if not topic or not certificate:
        raise Http404("The Amazon SES webhook is not configured.")
    try:
        document = sns.message_read(request.body)
        sns.verify(document, certificate_pem=Path(certificate).read_bytes(), topic_arn=topic)
        if document["Type"] == sns.SUBSCRIPTION_CONFIRMATION:
            sns.subscription_confirm(sns.subscribe_url(document))
    except sns.RefusedMessageError as exc:
        logger.warning("refused an SNS request from %s: %s", request.META.get("REMOTE_ADDR"), exc)
        return HttpResponseForbidden(f"Refused: {exc}")
    except OSError as exc:  # the confirmation URL did not answer: SNS sends it again
        logger.error("could not confirm the SNS subscription: %s", exc)
        return HttpResponse("Could not confirm the subscription.", status=502)
    if document["Type"] == sns.NOTIFICATION:
        inbound_message_receive(source=InboundMessage.Source.SES, raw=request.body)
    return HttpResponse("OK")


@csrf_exempt
@login_not_required
@require_POST
def sendgrid_webhook(request):
    """SendGrid's signed event webhook: a batch of events."""
    key = settings.EDM_SENDGRID_WEBHOOK_KEY
    if not key:
        raise Http404("The SendGrid webhook is not configured.")
    try:
        sendgrid.verify(
            request.body,
            signature=request.headers.get(sendgrid.SIGNATURE_HEADER),
            timestamp=request.headers.get(sendgrid.TIMESTAMP_HEADER),
            key=key,
        )
    except sendgrid.RefusedRequestError as exc:
        logger.warning(
            "refused a SendGrid request from %s: %s", request.META.get("REMOTE_ADDR"), exc
        )
        return HttpResponseForbidden(f"Refused: {exc}")
    except ValueError as exc:
        logger.error("EDM_SENDGRID_WEBHOOK_KEY cannot be used: %s", exc)
        return HttpResponse("The webhook key is misconfigured.", status=503)
    inbound_message_receive(source=InboundMessage.Source.SENDGRID, raw=request.body)
    return HttpResponse("OK")
