"""Our DKIM signatures verify with dkimpy, an independent implementation, and break when altered."""

import email
import re
from email import policy

import dkim as dkimpy
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from campaigns.templating import Content
from delivery import dkim
from delivery.message import CampaignMessage, Recipient, Sender, build, compile_message

DOMAIN, SELECTOR = "shop.example.com", "edm1"


@pytest.fixture(scope="module")
def key_pem() -> bytes:
    return dkim.generate_private_key()


@pytest.fixture(scope="module")
def signer(key_pem) -> dkim.Signer:
    return dkim.Signer(domain=DOMAIN, selector=SELECTOR, private_key_pem=key_pem)


@pytest.fixture(scope="module")
def dns(key_pem):
    """dkimpy's DNS lookup, answered with our published record (no DNS involved)."""
    record = dkim.dns_record(key_pem, domain=DOMAIN, selector=SELECTOR)
    asked = []

    def lookup(name, timeout=5):
        asked.append(name)
        return "".join(record.strings).encode() if name == f"{record.name}.".encode() else None

    lookup.asked = asked
    return lookup


def campaign_message(subject: str, html: str) -> bytes:
    compiled = compile_message(
        CampaignMessage(
            campaign_id=42,
            campaign_name="春季促销",
            content=Content(subject=subject, html=html),
            sender=Sender("示例商店市场部", f"news@{DOMAIN}", f"support@{DOMAIN}"),
            public_url="https://mail.example.com",
            bounce_domain="bounces.example.com",
            secret="s",
            list_name="每周精选 Weekly digest with a rather long description to fold",
        )
    )
    return build(compiled, Recipient(7, 8, "wang.fang@example.cn", "王芳", {"city": "杭州"}))


CHINESE = campaign_message(
    "{{ contact.name }}，您好！春季大促销开始啦，全场五折起，限时三天，快来抢购吧～",
    "<p>您好 {{ contact.name }}，来自{{ contact.attributes.city }}的朋友。</p>" * 200,
)


def test_key_is_2048_bit_rsa(key_pem):
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert key.key_size == 2048


def test_dns_record_is_split_into_txt_strings(key_pem):
    record = dkim.dns_record(key_pem, domain=DOMAIN, selector=SELECTOR)
    assert record.name == "edm1._domainkey.shop.example.com"
    assert record.value.startswith("v=DKIM1; k=rsa; p=MII")
    assert all(len(part) <= 255 for part in record.strings) and len(record.strings) == 2
    assert "".join(record.strings) == record.value
    assert record.zone_text == " ".join(f'"{part}"' for part in record.strings)


def test_signed_campaign_message_verifies(signer, dns):
    signed = signer.sign(CHINESE)
    assert dkimpy.verify(signed, dnsfunc=dns)
    assert dns.asked == [b"edm1._domainkey.shop.example.com."]


def test_signature_is_relaxed_and_covers_the_bulk_mail_headers(signer):
    signed = signer.sign(CHINESE)
    message = email.message_from_bytes(signed, policy=policy.strict)
    tags = dict(
        tag.strip().split("=", 1)
        for tag in re.sub(r"\s+", "", str(message["DKIM-Signature"])).split(";")
    )
    assert tags["c"] == "relaxed/relaxed" and tags["a"] == "rsa-sha256"
    assert (tags["d"], tags["s"]) == (DOMAIN, SELECTOR)
    signed_names = tags["h"].split(":")
    for name in [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ]:
        assert signed_names.count(name) == 2, name  # present once, over-signed once


def test_signature_field_lines_are_short(signer):
    signed = signer.sign(CHINESE)
    field = signed[: len(signed) - len(CHINESE)]
    assert field.startswith(b"DKIM-Signature: v=1;") and field.endswith(b"\r\n")
    assert max(len(line) for line in field.split(b"\r\n")) <= 78


@pytest.mark.parametrize(
    "message",
    [
        b"From: a@shop.example.com\r\nTo: b@example.com\r\nSubject: tabs\r\n\r\n"
        b"a  body\twith   runs \t \r\nof whitespace  \r\n\r\n\r\n",
        b"From: a@shop.example.com\r\nTo:   b@example.com  \r\nSubject:\tfolded\r\n  over\r\n"
        b"\t lines\r\n\r\nbody\r\n",
        b"From: a@shop.example.com\r\nSubject: no body\r\n\r\n",
        b"From: a@shop.example.com\r\nSubject: " + b"long " * 300 + b"\r\n\r\nx\r\n",
        # More single spaces than the quick scan visits, then a space before a line end.
        b"From: a@shop.example.com\r\nSubject: many\r\n\r\n" + b"a b " * 40 + b"end \r\n",
        b"From: a@shop.example.com\r\nSubject: many\r\n\r\n" + b"a b " * 40 + b"x  y\r\n",
        b"From: a@shop.example.com\r\nSubject: last\r\n\r\nthe last line ends in a space \r\n",
        b"From: a@shop.example.com\r\nSubject: last\r\n\r\nx\r\n \r\n\t\r\n",
    ],
)
def test_messages_that_need_canonicalization_verify(signer, dns, message):
    assert dkimpy.verify(signer.sign(message), dnsfunc=dns)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m.replace(b"Subject: =?utf-8?b?", b"Subject: =?utf-8?B?X"),
        lambda m: m.replace(b"To: =?utf-8?b?546L6Iqz?=", b"To: =?utf-8?b?546L6Iqy?="),
        lambda m: m.replace(b"\r\n\r\n", b"\r\nFrom: attacker@evil.example\r\n\r\n", 1),
        lambda m: m.replace(b"\r\n\r\n", b"\r\nSubject: second subject\r\n\r\n", 1),
        lambda m: m[: m.rindex(b"--=_edm")] + b"--=_edm_extra--\r\n",
        lambda m: m.replace(b"5oKo", b"5oKp", 1),
        lambda m: m.replace(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b""),
    ],
)
def test_tampered_message_fails(signer, dns, tamper):
    signed = signer.sign(CHINESE)
    tampered = tamper(signed)
    assert tampered != signed
    assert not dkimpy.verify(tampered, dnsfunc=dns)


def test_signature_from_another_key_fails(dns):
    other = dkim.Signer(
        domain=DOMAIN, selector=SELECTOR, private_key_pem=dkim.generate_private_key()
    )
    assert not dkimpy.verify(other.sign(CHINESE), dnsfunc=dns)


def test_signed_message_still_parses_strictly(signer):
    message = email.message_from_bytes(signer.sign(CHINESE), policy=policy.strict)
    assert message.defects == []
    assert message["Subject"].startswith("王芳，您好！")


def test_signer_refuses_a_key_that_is_not_rsa():
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="RSA"):
        dkim.Signer(domain=DOMAIN, selector=SELECTOR, private_key_pem=pem)
