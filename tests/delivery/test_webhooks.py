"""Provider webhooks: signed requests change state, forged ones are refused and change nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from django.test import Client

from campaigns.models import Contact, Suppression
from delivery.models import BounceEvent, Delivery, InboundMessage
from delivery.webhooks import sns
from tests.delivery import returns
from tests.factories import make_campaign, make_contact, make_list

TOPIC = "arn:aws:sns:us-east-1:123456789012:edm-bounces"


def rsa_certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.us-east-1.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def aws_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(autouse=True)
def bounce_domain(settings, monkeypatch):
    """The bounce domain of this process and of the worker processes it starts."""
    settings.EDM_BOUNCE_DOMAIN = "bounces.edm.example"
    monkeypatch.setenv("EDM_BOUNCE_DOMAIN", "bounces.edm.example")


@pytest.fixture
def ses(settings, tmp_path, aws_key):
    """The SES webhook configured with a certificate whose key the test signs with."""
    path = tmp_path / "sns.pem"
    path.write_bytes(rsa_certificate(aws_key))
    settings.EDM_SES_TOPIC_ARN = TOPIC
    settings.EDM_SES_CERT_PATH = path
    return aws_key


def signed_sns(key: rsa.RSAPrivateKey, message: dict, *, version: str = "2") -> dict:
    """An SNS message signed as AWS documents it: "Name\\nvalue\\n" for the signed fields."""
    names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    if message["Type"] != "Notification":
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    text = "".join(f"{n}\n{message[n]}\n" for n in names if n in message)
    digest = hashes.SHA256() if version == "2" else hashes.SHA1()
    signature = key.sign(text.encode(), padding.PKCS1v15(), digest)
    return {
        **message,
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode(),
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
    }


def notification(event: dict, *, topic: str = TOPIC) -> dict:
    return {
        "Type": "Notification",
        "MessageId": "5e3f2a4c-0b7d-5f1e-9a31-7c9b2d4e6f80",
        "TopicArn": topic,
        "Message": json.dumps(event),
        "Timestamp": "2026-11-27T10:00:00.000Z",
    }


def ses_bounce(delivery: Delivery) -> dict:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "feedbackId": "0100018c-feedback-1",
            "bouncedRecipients": [
                {
                    "emailAddress": delivery.email,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
        },
        "mail": {
            "messageId": "0100018c-ses-id",
            "source": returns.return_path(delivery),
            "destination": [delivery.email],
        },
    }


def post_json(path: str, document, **headers):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return Client().post(path, body, content_type="text/plain; charset=UTF-8", headers=headers)


@pytest.fixture
def delivery(db):
    customers = make_list()
    campaign = make_campaign(lists=[customers])
    contact = make_contact("gone@a.example", contact_list=customers)
    return returns.sent_delivery(campaign, contact, site="relay")


def nothing_changed(delivery: Delivery) -> bool:
    delivery.refresh_from_db()
    return (
        delivery.status == "sent"
        and not InboundMessage.objects.exists()
        and not BounceEvent.objects.exists()
        and not Suppression.objects.exists()
    )


def test_a_signed_ses_bounce_notification_bounces_the_delivery(ses, delivery, rq_burst):
    response = post_json("/webhooks/ses", signed_sns(ses, notification(ses_bounce(delivery))))
    assert response.status_code == 200
    rq_burst()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.reason, delivery.hard) == ("bounced", "userunknown", True)
    assert Contact.objects.get(pk=delivery.contact_id).status == "bounced"
    event = BounceEvent.objects.get()
    assert (event.source, event.report) == ("ses", "ses:0100018c-feedback-1")
    assert InboundMessage.objects.get().source == "ses"


@pytest.mark.django_db
def test_a_signed_ses_complaint_with_signature_version_1_is_accepted(ses, delivery):
    complaint = {
        "notificationType": "Complaint",
        "complaint": {
            "feedbackId": "0100018c-feedback-2",
            "complaintFeedbackType": "abuse",
            "complainedRecipients": [{"emailAddress": delivery.email}],
        },
        "mail": {"source": returns.return_path(delivery), "destination": [delivery.email]},
    }
    response = post_json("/webhooks/ses", signed_sns(ses, notification(complaint), version="1"))
    assert response.status_code == 200
    assert InboundMessage.objects.get().source == "ses"


@pytest.mark.django_db
def test_an_ses_notification_with_a_forged_signature_is_refused(ses, delivery):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = post_json("/webhooks/ses", signed_sns(forger, notification(ses_bounce(delivery))))
    assert response.status_code == 403
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_an_ses_notification_altered_after_signing_is_refused(ses, delivery):
    genuine = signed_sns(ses, notification(ses_bounce(delivery)))
    event = ses_bounce(delivery)
    event["bounce"]["bouncedRecipients"][0]["emailAddress"] = "victim@a.example"
    response = post_json("/webhooks/ses", {**genuine, "Message": json.dumps(event)})
    assert response.status_code == 403
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_an_unsigned_ses_notification_is_refused(ses, delivery):
    response = post_json("/webhooks/ses", notification(ses_bounce(delivery)))
    assert response.status_code == 403
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_a_notification_of_another_topic_is_refused_even_when_signed(ses, delivery):
    other = "arn:aws:sns:us-east-1:999999999999:someone-else"
    response = post_json(
        "/webhooks/ses", signed_sns(ses, notification(ses_bounce(delivery), topic=other))
    )
    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Refused: the message is for another topic."
    assert nothing_changed(delivery)


SCRIPT = "<script>fetch('/settings/api-tokens/')</script>"


def assert_json_error(response, status: int) -> str:
    """The answer is the API's error shape, as JSON, with this status; its message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    return error["message"]


@pytest.mark.django_db
def test_a_topic_arn_with_script_is_never_echoed_into_html(ses, delivery):
    # What a form on another site posts (enctype="text/plain"), unsigned.
    forged = {"Type": "Notification", "TopicArn": SCRIPT, "Message": "{}"}
    response = post_json("/webhooks/ses", forged)
    assert_json_error(response, 403)
    assert b"<script" not in response.content
    signed = post_json("/webhooks/ses", signed_sns(ses, notification({}, topic=SCRIPT)))
    assert_json_error(signed, 403)
    assert b"<script" not in signed.content
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_an_ses_message_is_refused_for_its_signature_before_its_topic_is_compared(ses):
    other = "arn:aws:sns:us-east-1:999999999999:someone-else"
    response = post_json("/webhooks/ses", notification({}, topic=other))
    assert assert_json_error(response, 403) == "Refused: unknown or missing SignatureVersion."
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = post_json("/webhooks/ses", signed_sns(forger, notification({}, topic=other)))
    assert assert_json_error(response, 403) == "Refused: the signature does not match."


@pytest.mark.django_db
def test_a_subscribe_url_outside_aws_is_not_echoed(ses, fetched):
    url = f"https://127.0.0.1:8443/{SCRIPT}"
    response = post_json("/webhooks/ses", signed_sns(ses, subscription(url)))
    message = assert_json_error(response, 403)
    assert message == "Refused: the SubscribeURL is not an SNS endpoint."
    assert fetched == []


@pytest.mark.django_db
def test_a_hundred_thousand_nested_brackets_are_refused_by_the_ses_webhook_not_a_500(ses):
    response = post_json("/webhooks/ses", b"[" * 100_000)
    message = assert_json_error(response, 403)
    assert message == "Refused: the body nests too deeply to be an SNS message."
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_an_ses_body_over_the_inbound_limit_is_413(ses, settings):
    settings.EDM_INBOUND_MAX_BYTES = 1000
    body = json.dumps(notification({"pad": "x" * 1000})).encode()
    assert_json_error(post_json("/webhooks/ses", body), 413)
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_webhook_answers_other_than_ok_are_json(ses, settings, tmp_path):
    assert_json_error(Client().get("/webhooks/ses"), 405)
    assert Client().get("/webhooks/sendgrid")["Allow"] == "POST"
    assert_json_error(post_json("/webhooks/sendgrid", b"[]"), 404)  # not configured
    settings.EDM_SES_CERT_PATH = tmp_path / "missing.pem"
    message = assert_json_error(post_json("/webhooks/ses", notification({})), 503)
    assert message == "The webhook certificate is misconfigured."


def subscription(url: str) -> dict:
    return {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a7",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": url,
        "Timestamp": "2026-11-27T10:00:00.000Z",
    }


@pytest.fixture
def fetched(monkeypatch):
    """The confirmation URLs the webhook fetched (AWS cannot be reached from the tests)."""
    urls: list[str] = []
    monkeypatch.setattr(sns, "subscription_confirm", urls.append)
    return urls


@pytest.mark.django_db
def test_a_signed_subscription_confirmation_fetches_its_url(ses, fetched):
    url = f"https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}"
    response = post_json("/webhooks/ses", signed_sns(ses, subscription(url)))
    assert response.status_code == 200
    assert fetched == [url]
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_a_forged_subscription_confirmation_fetches_nothing(ses, fetched):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
    response = post_json("/webhooks/ses", signed_sns(forger, subscription(url)))
    assert response.status_code == 403
    assert fetched == []


@pytest.mark.django_db
def test_a_signed_confirmation_pointing_outside_aws_fetches_nothing(ses, fetched):
    response = post_json(
        "/webhooks/ses", signed_sns(ses, subscription("https://127.0.0.1:8443/confirm"))
    )
    assert response.status_code == 403
    assert fetched == []


@pytest.mark.django_db
def test_the_ses_webhook_does_not_exist_until_configured(settings):
    settings.EDM_SES_TOPIC_ARN = None
    assert post_json("/webhooks/ses", {"Type": "Notification"}).status_code == 404


@pytest.fixture(scope="module")
def sendgrid_key():
    return ec.generate_private_key(ec.SECP256R1())


def verification_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SendGrid shows it: base64 of its DER SubjectPublicKeyInfo."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


@pytest.fixture
def sendgrid(settings, sendgrid_key):
    settings.EDM_SENDGRID_WEBHOOK_KEY = verification_key(sendgrid_key)
    return sendgrid_key


def signed_headers(key: ec.EllipticCurvePrivateKey, body: bytes, timestamp: str | None = None):
    """SendGrid's headers, signed now unless the timestamp says otherwise."""
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
    }


def sendgrid_events(delivery: Delivery) -> bytes:
    message_id = returns.original(delivery).split(b"Message-ID: ")[1].split(b"\r\n")[0]
    return json.dumps(
        [
            {
                "email": delivery.email,
                "event": "bounce",
                "type": "bounce",
                "smtp-id": message_id.decode(),
                "status": "5.1.1",
                "reason": "550 5.1.1 <gone@a.example>: Recipient address rejected: User unknown",
                "sg_event_id": "sg-event-1",
                "timestamp": 1764237600,
            }
        ]
    ).encode()


def test_a_signed_sendgrid_bounce_event_bounces_the_delivery(sendgrid, delivery, rq_burst):
    body = sendgrid_events(delivery)
    response = post_json("/webhooks/sendgrid", body, **signed_headers(sendgrid, body))
    assert response.status_code == 200
    rq_burst()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.reason, delivery.hard) == ("bounced", "userunknown", True)
    assert Suppression.objects.filter(value="gone@a.example").exists()
    assert BounceEvent.objects.get().report == "sendgrid:sg-event-1"


@pytest.mark.django_db
def test_a_sendgrid_request_signed_with_another_key_is_refused(sendgrid, delivery):
    body = sendgrid_events(delivery)
    forger = ec.generate_private_key(ec.SECP256R1())
    response = post_json("/webhooks/sendgrid", body, **signed_headers(forger, body))
    assert response.status_code == 403
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_a_sendgrid_body_altered_after_signing_is_refused(sendgrid, delivery):
    headers = signed_headers(sendgrid, sendgrid_events(delivery))
    altered = sendgrid_events(delivery).replace(b"gone@a.example", b"victim@a.example")
    response = post_json("/webhooks/sendgrid", altered, **headers)
    assert response.status_code == 403
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_a_sendgrid_request_with_another_timestamp_is_refused(sendgrid, delivery):
    body = sendgrid_events(delivery)
    headers = signed_headers(sendgrid, body) | {
        "X-Twilio-Email-Event-Webhook-Timestamp": str(int(time.time()) + 1)
    }
    assert post_json("/webhooks/sendgrid", body, **headers).status_code == 403
    assert nothing_changed(delivery)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("timestamp", "when"),
    [("0", "in 1970"), ("-600", "ten minutes ago"), ("+600", "ten minutes ahead")],
)
def test_a_sendgrid_request_signed_more_than_five_minutes_from_now_is_refused(
    sendgrid, delivery, timestamp, when
):
    body = sendgrid_events(delivery)
    signed_at = timestamp if timestamp == "0" else str(int(time.time()) + int(timestamp))
    response = post_json("/webhooks/sendgrid", body, **signed_headers(sendgrid, body, signed_at))
    message = assert_json_error(response, 403)
    assert message == "Refused: the request was not signed in the last 5 minutes.", when
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_a_sendgrid_request_replayed_within_five_minutes_is_stored_once(sendgrid, delivery):
    body = sendgrid_events(delivery)
    headers = signed_headers(sendgrid, body)
    assert post_json("/webhooks/sendgrid", body, **headers).status_code == 200
    assert post_json("/webhooks/sendgrid", body, **headers).status_code == 200
    assert InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_signed_sendgrid_body_nested_a_hundred_thousand_deep_is_a_json_400(sendgrid):
    body = b"[" * 100_000
    response = post_json("/webhooks/sendgrid", body, **signed_headers(sendgrid, body))
    assert assert_json_error(response, 400) == "The body is not a JSON list of events."
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_an_unsigned_sendgrid_request_with_script_in_its_headers_echoes_nothing(sendgrid):
    response = post_json(
        "/webhooks/sendgrid",
        b"[]",
        **{
            "X-Twilio-Email-Event-Webhook-Signature": SCRIPT,
            "X-Twilio-Email-Event-Webhook-Timestamp": SCRIPT,
        },
    )
    assert assert_json_error(response, 403) == "Refused: the signature is not base64."


@pytest.mark.django_db
def test_an_unsigned_sendgrid_request_is_refused(sendgrid, delivery):
    response = post_json("/webhooks/sendgrid", sendgrid_events(delivery))
    assert response.status_code == 403
    assert nothing_changed(delivery)


@pytest.mark.django_db
def test_the_sendgrid_webhook_does_not_exist_until_configured(settings):
    settings.EDM_SENDGRID_WEBHOOK_KEY = None
    assert post_json("/webhooks/sendgrid", b"[]").status_code == 404
