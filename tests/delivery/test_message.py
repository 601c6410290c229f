"""Built messages parse cleanly with the stdlib's strict policy and carry every header."""

import email
import email.header
import email.utils
import re
from email import policy
from email.headerregistry import Address

import pytest

from campaigns import links
from campaigns.templating import Content, TemplateRenderError
from delivery import verp
from delivery.message import (
    CampaignMessage,
    Recipient,
    Sender,
    build,
    compile_message,
    envelope_sender,
    render_recipient,
)
from delivery.mime import InvalidAddressError

SECRET = "test-secret"
SUBJECT = (
    "{{ contact.name }}，您好！春季大促销开始啦，全场五折起，限时三天，快来抢购吧～Spring sale"
)
HTML = (
    "<html><head><style>p.lead { color: #d23f31; }</style></head><body>"
    "<p class='lead'>您好 {{ contact.name }}, your city: {{ contact.attributes.city }}</p>"
    "<p>" + "A long line of marketing text without any line break at all. " * 40 + "</p>"
    "<a href='{{ unsubscribe_url }}'>Unsubscribe</a> <a href='{{ view_online_url }}'>View</a>"
    "</body></html>"
)
RECIPIENT = Recipient(
    delivery_id=987654,
    contact_id=321,
    email="wang.fang@example.cn",
    name="王芳",
    attributes={"city": "杭州"},
)


def campaign(**changes) -> CampaignMessage:
    values = dict(
        campaign_id=42,
        campaign_name="春季促销",
        content=Content(subject=SUBJECT, html=HTML),
        sender=Sender("示例商店市场部", "news@shop.example.com", "support@shop.example.com"),
        public_url="https://mail.example.com",
        bounce_domain="bounces.example.com",
        secret=SECRET,
        list_name="Weekly digest 每周精选",
        list_label="digest",
    )
    values.update(changes)
    return CampaignMessage(**values)


def built(recipient: Recipient = RECIPIENT, **changes) -> bytes:
    return build(compile_message(campaign(**changes)), recipient)


def parse(data: bytes):
    message = email.message_from_bytes(data, policy=policy.strict)
    assert message.defects == []
    for part in message.walk():
        assert part.defects == []
    return message


def header_names(data: bytes) -> list[str]:
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if line[:1] not in (" ", "\t")]


def test_message_has_every_header_once():
    data = built()
    names = header_names(data)
    for name in [
        "Date",
        "From",
        "To",
        "Subject",
        "Message-ID",
        "MIME-Version",
        "Reply-To",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "List-Id",
        "Feedback-ID",
        "Content-Type",
    ]:
        assert names.count(name) == 1, name
    assert len(names) == 12


def test_chinese_subject_and_names_round_trip():
    message = parse(built())
    assert message["Subject"] == (
        "王芳，您好！春季大促销开始啦，全场五折起，限时三天，快来抢购吧～Spring sale"
    )
    assert message["From"].addresses == (
        Address(display_name="示例商店市场部", addr_spec="news@shop.example.com"),
    )
    assert message["To"].addresses == (
        Address(display_name="王芳", addr_spec="wang.fang@example.cn"),
    )
    assert message["Reply-To"].addresses[0].addr_spec == "support@shop.example.com"


def test_headers_are_ascii_with_encoded_words():
    data = built()
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"Subject: =?utf-8?b?" in head
    # RFC 2047 §2: no encoded word longer than 75 characters.
    assert all(len(word) <= 75 for word in re.findall(rb"=\?[^?]+\?[bq]\?[^?]*\?=", head))


def test_every_line_ends_in_crlf_and_is_short():
    data = built()
    assert data.endswith(b"\r\n")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998  # RFC 5322 §2.1.1
    # …and 78, its recommendation, except where an unbreakable link is longer.
    assert [
        line for line in lines if len(line) > 78 and b"://" not in line and b"mailto:" not in line
    ] == []


def test_parts_decode_to_the_rendered_content():
    compiled = compile_message(campaign())
    data = build(compiled, RECIPIENT)
    rendered = render_recipient(compiled, RECIPIENT)
    message = parse(data)
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content() == rendered.text.replace("\n", "\r\n")
    assert html.get_content() == rendered.html.replace("\n", "\r\n")
    assert "您好 王芳, your city: 杭州" in html.get_content()
    assert 'style="color: #d23f31;"' in html.get_content()  # CSS inlined
    assert "您好 王芳, your city: 杭州" in text.get_content()


def test_unsubscribe_headers_follow_rfc_8058():
    message = parse(built())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    assert https.startswith("https://mail.example.com/u/")
    token = https.rstrip("/").rsplit("/", 1)[1]
    assert links.read_token(links.LinkPurpose.UNSUBSCRIBE, token, SECRET) == (42, 321)
    assert mailto.startswith("mailto:") and mailto.endswith("?subject=unsubscribe")
    address = mailto.removeprefix("mailto:").split("?")[0]
    assert address.endswith("@bounces.example.com")
    assert links.read_unsubscribe_address(address, SECRET) == (42, 321)


def test_links_in_the_body_are_the_recipients_own():
    rendered = render_recipient(compile_message(campaign()), RECIPIENT)
    unsubscribe, view = re.findall(r'href="([^"]+)"', rendered.html)
    assert unsubscribe == links.unsubscribe_url(
        "https://mail.example.com", links.LinkTarget(42, 321), SECRET
    )
    assert view == links.view_online_url(
        "https://mail.example.com", links.LinkTarget(42, 321), SECRET
    )


def test_list_id_feedback_id_and_message_id_use_the_sender_domain():
    message = parse(built())
    assert message["List-Id"] == "Weekly digest 每周精选 <digest.shop.example.com>"
    assert message["Feedback-ID"] == "42:digest:edm:shop.example.com"
    assert re.fullmatch(r"<987654\.[0-9a-f]{16}@shop\.example\.com>", message["Message-ID"])
    assert message["MIME-Version"] == "1.0"
    assert message["Date"].datetime.tzinfo is not None


def raw_header(data: bytes, name: str) -> str:
    """A header's value as written, unfolded (RFC 5322 §2.2.3), encoded words and all."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n(?=[ \t])", "", head)
    (value,) = [
        line.split(":", 1)[1].strip()
        for line in unfolded.split("\r\n")
        if line.startswith(f"{name}:")
    ]
    return value


@pytest.mark.parametrize(
    "name",
    [
        "Spring <sale>",
        'The "Best" offers',
        "Back\\slash \\",
        "Sales, news; and more",
        "春季 <促销>，限时“特惠”",
        'Mixed 中文 <x> "y", z; \\',
        "A plain name",
        "Spring <sale> with a description long enough that it has to be folded somewhere"
        " along the way",
    ],
)
def test_a_list_name_with_angle_brackets_or_quotes_cannot_change_the_list_id(name):
    data = built(list_name=name, list_label="c42")
    parse(data)  # no defects under policy.strict
    value = raw_header(data, "List-Id")
    assert value.isascii()
    display_name, list_id = email.utils.parseaddr(value)
    assert list_id == "c42.shop.example.com"
    decoded = str(email.header.make_header(email.header.decode_header(display_name)))
    assert decoded == name


def test_each_message_gets_its_own_message_id():
    compiled = compile_message(campaign())
    first, second = (parse(build(compiled, RECIPIENT))["Message-ID"] for _ in range(2))
    assert first != second


def test_envelope_sender_is_a_verp_address_for_the_delivery():
    sender = envelope_sender(compile_message(campaign()), RECIPIENT)
    assert sender.endswith("@bounces.example.com")
    assert verp.decode(sender, SECRET) == 987654


def test_idn_sender_domain_is_written_as_a_labels():
    message = parse(built(sender=Sender("Shop", "news@例子.cn")))
    assert message["From"].addresses[0].domain == "xn--fsqu00a.cn"


def test_ascii_name_with_specials_is_quoted():
    recipient = Recipient(1, 2, "bob@example.com", 'Bob "The Builder", Jr.')
    message = parse(built(recipient))
    assert message["To"].addresses == (
        Address(display_name='Bob "The Builder", Jr.', addr_spec="bob@example.com"),
    )


@pytest.mark.parametrize(
    "name",
    [
        "Eve\r\nBcc: victim@example.com",
        "Eve\nBcc: victim@example.com",
        "Eve\rBcc: victim@example.com",
        "夏娃\r\nBcc: victim@example.com",
        "Eve\u2028Bcc: victim@example.com",
        "Eve\r\n\r\n<script>body</script>",
    ],
)
def test_line_breaks_in_names_cannot_add_headers(name):
    data = built(
        Recipient(1, 2, "eve@example.com", name),
        sender=Sender(name, "news@shop.example.com"),
        list_name=name,
    )
    message = parse(data)
    assert "Bcc" not in header_names(data)
    assert message["Bcc"] is None
    assert len(header_names(data)) == 11  # no Reply-To here
    assert message["To"].addresses[0].addr_spec == "eve@example.com"


@pytest.mark.parametrize(
    "subject",
    [
        "Hi\r\nBcc: victim@example.com",
        "Hi {{ contact.attributes.evil }}",
        "你好\r\nBcc: victim@example.com",
    ],
)
def test_line_breaks_in_the_subject_cannot_add_headers(subject):
    recipient = Recipient(1, 2, "x@example.com", "x", {"evil": "there\r\nBcc: victim@example.com"})
    data = built(recipient, content=Content(subject=subject, html="<p>x</p>"))
    message = parse(data)
    assert "Bcc" not in header_names(data)
    assert "Bcc: victim@example.com" in message["Subject"]  # kept as text, on one line


@pytest.mark.parametrize(
    "reply_to",
    [
        "support@example.com\r\nBcc: victim@example.com",
        "support@example.com>, victim@example.com",
        "support@example.com, victim@example.com",
        "Support <support@example.com>",
    ],
)
def test_reply_to_that_smuggles_anything_is_refused(reply_to):
    with pytest.raises(InvalidAddressError):
        compile_message(campaign(sender=Sender("Shop", "news@example.com", reply_to)))


@pytest.mark.parametrize(
    "email_address",
    [
        "victim@example.com\r\nBcc: x@example.com",
        "a@example.com, b@example.com",
        "not-an-address",
        "用户@example.com",
    ],
)
def test_recipient_address_that_cannot_be_written_is_refused(email_address):
    with pytest.raises(InvalidAddressError):
        built(Recipient(1, 2, email_address, "x"))


def test_template_error_for_one_recipient_is_raised_as_such():
    content = Content(subject="s", html="{{ 10 / contact.attributes.count }}")
    compiled = compile_message(campaign(content=content))
    assert b"Content-Type" in build(compiled, Recipient(1, 2, "a@example.com", "", {"count": 5}))
    with pytest.raises(TemplateRenderError):
        build(compiled, Recipient(1, 2, "a@example.com", "", {"count": 0}))


def test_non_personalized_parts_are_identical_across_recipients():
    content = Content(subject="Same for all", html="<p>No variables at all.</p>")
    compiled = compile_message(campaign(content=content))
    bodies = [
        build(compiled, Recipient(i, i, f"u{i}@example.com")).split(b"\r\n\r\n", 1)[1]
        for i in range(3)
    ]
    assert bodies[0] == bodies[1] == bodies[2]


@pytest.mark.parametrize(
    "subject",
    [
        "A plain ASCII subject that is long enough to need folding across more than one line",
        "x" * 998,  # the longest subject allowed, longer than a header line
        "=?utf-8?q?looks_encoded?= but is not",
        "中文" * 100,
    ],
)
def test_long_and_tricky_subjects_round_trip(subject):
    data = built(content=Content(subject=subject, html="<p>x</p>"))
    message = parse(data)
    assert message["Subject"] == subject
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


def test_long_ascii_subject_is_folded_not_encoded():
    subject = "A plain ASCII subject that is long enough to need folding across more than one line"
    head = built(content=Content(subject=subject, html="<p>x</p>")).split(b"\r\n\r\n")[0]
    subject_field = head.split(b"Subject:")[1].split(b"\r\nMessage-ID")[0]
    assert subject_field.startswith(b" A plain ASCII subject") and b"=?" not in subject_field


@pytest.mark.parametrize(
    "changes",
    [
        {"public_url": "javascript:alert(1)"},
        {"public_url": "https://mail.例子.cn"},
        {"bounce_domain": "bounces.例子.cn"},
        {"bounce_domain": "bounces.example.com>, <mailto:x@evil.example"},
    ],
)
def test_settings_that_cannot_make_links_are_refused_at_compile_time(changes):
    with pytest.raises(ValueError):
        compile_message(campaign(**changes))
