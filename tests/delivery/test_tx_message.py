"""Transactional messages parse cleanly with the stdlib's strict policy, carry their
attachments and extra headers, and none of the mailing-list headers."""

from __future__ import annotations

import email
from email import policy

import dkim
import pytest

from campaigns.templating import Content
from delivery import dkim as our_dkim
from delivery import verp
from delivery.message import Sender
from delivery.tx_message import (
    Attachment,
    InvalidAttachmentError,
    InvalidHeaderError,
    TxContent,
    TxRecipient,
    attachment_check,
    build_tx,
    compile_tx,
    header_check,
    tx_envelope_sender,
)

RECIPIENT = TxRecipient(
    tx_id=77,
    message_id="<tx.0123@shop.example>",
    email="wang.fang@example.cn",
    name="王芳",
    attributes={"code": "493 117"},
)
CONTENT = Content(
    subject="您的验证码 {{ contact.attributes.code }}",
    html="<p>你好 {{ contact.name }}，验证码：<b>{{ contact.attributes.code }}</b></p>",
)


def content(**changes) -> TxContent:
    values = dict(
        template_name="Verification",
        content=CONTENT,
        sender=Sender("示例商店", "account@shop.example", "help@shop.example"),
    )
    values.update(changes)
    return TxContent(**values)


def parsed(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=policy.strict)
    assert not message.defects
    return message


def test_a_message_without_attachments_is_multipart_alternative_with_no_list_headers():
    data = build_tx(compile_tx(content()), RECIPIENT)
    message = parsed(data)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "您的验证码 493 117"
    assert message["To"] == "王芳 <wang.fang@example.cn>"
    assert message["Reply-To"] == "help@shop.example"
    assert message["Message-ID"] == "<tx.0123@shop.example>"
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-ID"):
        assert message[name] is None
    assert "验证码：<b>493 117</b>" in message.get_body(("html",)).get_content()
    assert "493 117" in message.get_body(("plain",)).get_content()
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_attachments_make_it_multipart_mixed_with_the_files_intact():
    files = (
        Attachment(
            "報告 2024年 第四季度 最終版 — 請審閱後回覆.pdf", "application/pdf", b"%PDF" * 5000
        ),
        Attachment('say "hi".txt', "text/plain; charset=UTF-8", "héllo\n".encode()),
    )
    message = parsed(build_tx(compile_tx(content(attachments=files)), RECIPIENT))
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("html",)) is not None
    found = [
        (p.get_filename(), p.get_content_type(), p.get_content())
        for p in message.iter_attachments()
    ]
    assert found == [
        (files[0].filename, "application/pdf", files[0].data),
        ('say "hi".txt', "text/plain", "héllo\n"),
    ]


def test_extra_headers_are_written_and_folded():
    headers = (("X-Entity-Ref-ID", "order-4711"), ("X-Note", "备注 " * 40))
    message = parsed(build_tx(compile_tx(content(headers=headers)), RECIPIENT))
    assert message["X-Entity-Ref-ID"] == "order-4711"
    assert message["X-Note"] == ("备注 " * 40).strip()


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("X-Tag", "a\r\nBcc: someone@else.example", "one line"),
        ("X-Tag", "a\nb", "one line"),
        ("X-Tag", "nul\x00", "one line"),
        ("From", "x@evil.example", "written by EDM"),
        ("content-type", "text/plain", "written by EDM"),
        ("List-Unsubscribe", "<mailto:x@x.example>", "written by EDM"),
        ("DKIM-Signature", "v=1", "written by EDM"),
        ("Resent-From", "x@x.example", "written by EDM"),
        ("X Tag", "x", "not a header name"),
        ("X:Tag", "x", "not a header name"),
        ("", "x", "not a header name"),
    ],
)
def test_headers_that_could_change_the_message_are_refused(name, value, why):
    with pytest.raises(InvalidHeaderError, match=why):
        header_check(name, value)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("", ""),
        ("a\r\nb.txt", ""),
        ("x.eml", "message/rfc822"),
        ("x", "multipart/mixed"),
        ("x", "nope"),
    ],
)
def test_attachments_that_cannot_be_sent_are_refused(filename, content_type):
    with pytest.raises(InvalidAttachmentError):
        attachment_check(filename, content_type)


def test_an_attachments_type_is_guessed_from_its_name():
    assert attachment_check("invoice.pdf") == ("invoice.pdf", "application/pdf")
    assert attachment_check("data.unknownext") == ("data.unknownext", "application/octet-stream")
    assert attachment_check("a.csv", 'Text/CSV; charset="GBK"') == (
        "a.csv",
        "text/csv; charset=gbk",
    )


def test_the_return_path_is_a_tx_verp_address_that_no_delivery_decodes():
    address = tx_envelope_sender(77, "bounces.example.com", "secret")
    assert address.startswith("t-77-")
    assert verp.decode_token(address, "secret") == verp.Token(verp.Kind.TX, 77)
    assert verp.decode(address, "secret") is None
    forged = address.replace("t-77-", "b-77-")
    assert verp.decode_token(forged, "secret") is None


def test_a_signed_message_verifies():
    key = our_dkim.generate_private_key()
    signer = our_dkim.Signer(domain="shop.example", selector="s1", private_key_pem=key)
    record = our_dkim.dns_record(key, domain="shop.example", selector="s1")
    files = (Attachment("a.bin", "application/octet-stream", bytes(range(256)) * 50),)
    data = signer.sign(build_tx(compile_tx(content(attachments=files)), RECIPIENT))
    assert dkim.verify(data, dnsfunc=lambda name, timeout=5: record.value.encode())
