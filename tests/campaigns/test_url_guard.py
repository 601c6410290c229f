"""Contact data cannot put a `javascript:`, `vbscript:` or `data:` URL into a link or an image."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from campaigns.sandbox import TemplateContact, html_environment
from campaigns.templating import Content, InvalidContentError, compile_content, render
from campaigns.url_guard import guard_source
from delivery.message import CampaignMessage, Recipient, Sender, compile_message, render_recipient

ATTACKS = [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " \t java\tscript:alert(1)",
    "java\r\nscript:alert(1)",
    "\x01\x1fjavascript:alert(1)",
    "vbscript:msgbox(1)",
    "VBScript:msgbox(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    " DATA:image/svg+xml,<svg onload=alert(1)>",
]


class Attributes(HTMLParser):
    """Every (tag, attribute, value) of a document, values decoded as a browser decodes them."""

    def __init__(self, document: str):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self.feed(document)

    def handle_starttag(self, tag, attrs):
        self.found += [(tag, name, value or "") for name, value in attrs]


def scheme(url: str) -> str | None:
    """The scheme a browser reads: tabs and line breaks removed, controls and spaces trimmed."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("".join(chr(c) for c in range(0x21)))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else None


def rendered(html: str, **attributes) -> str:
    compiled = compile_content(Content(subject="Hi", html=html), campaign_name="Spring")
    contact = TemplateContact("ana@shop.example", "Ana", attributes)
    return render(compiled, contact, unsubscribe_url="https://edm.example/u/1/").html


def values(html: str, **attributes) -> dict[str, str]:
    return {name: value for _, name, value in Attributes(rendered(html, **attributes)).found}


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize(
    "markup",
    [
        '<a href="{{ contact.attributes.site }}">x</a>',
        "<img src='{{ contact.attributes.site }}'>",
        "<a href={{ contact.attributes.site }}>x</a>",
        '<form action="{{ contact.attributes.site }}">'
        '<button formaction="{{ contact.attributes.site }}">',
        '<table background="{{ contact.attributes.site }}">'
        '<video poster="{{ contact.attributes.site }}">',
        '<svg><a xlink:href="{{ contact.attributes.site }}"><text>x</text></a></svg>',
        '<blockquote cite="  {{ contact.attributes.site }}">q</blockquote>',
        '<a HREF = "{{ contact.attributes.site|safe }}">x</a>',
    ],
)
def test_contact_data_cannot_put_a_script_url_into_a_url_attribute(markup, attack):
    found = values(markup, site=attack)
    assert found  # the attributes are there…
    assert not {scheme(value) for value in found.values()} & {"javascript", "vbscript", "data"}
    assert set(found.values()) == {"about:blank"}


@pytest.mark.parametrize("attack", ["&#106;avascript:alert(1)", "&#x6A;ava&Tab;script:x"])
def test_an_entity_encoded_scheme_printed_raw_is_neutralized(attack):
    found = values('<a href="{{ contact.attributes.site|safe }}">x</a>', site=attack)
    assert found == {"href": "about:blank"}


def test_a_scheme_split_across_two_values_is_neutralized():
    found = values(
        '<a href="{{ contact.attributes.a }}{{ contact.attributes.b }}">x</a>',
        a="java",
        b="script:alert(1)",
    )
    assert found == {"href": "about:blank"}


def test_a_scheme_completed_by_contact_data_is_neutralized():
    found = values("<a href='java{{ contact.name }}'>x</a>", site="")
    assert found == {"href": "javaAna"}  # harmless: a relative link
    found = values("<a href='java{{ contact.attributes.rest }}'>x</a>", rest="script:alert(1)")
    assert found == {"href": "about:blank"}


def test_contact_data_inside_a_javascript_url_the_author_wrote_is_neutralized():
    found = values(
        "<a href=\"javascript:track('{{ contact.attributes.code }}')\">x</a>",
        code="');alert(document.cookie);('",
    )
    assert found == {"href": "about:blank"}


def test_a_javascript_url_the_author_wrote_without_values_is_left_as_written():
    assert values('<a href="javascript:void(0)">x</a>') == {"href": "javascript:void(0)"}


@pytest.mark.parametrize(
    "markup",
    [
        '<img srcset="a.png 1x, {{ contact.attributes.big }} 2x">',
        '<img srcset="{{ contact.attributes.small }} 1x, {{ contact.attributes.big }} 2x">',
    ],
)
def test_any_unsafe_url_in_a_srcset_is_neutralized(markup):
    found = values(markup, small="https://shop.example/a.png", big="data:image/png,x")
    assert found == {"srcset": "about:blank"}


@pytest.mark.parametrize(
    "site",
    [
        "https://shop.example/a?b=1&c=2",
        "http://shop.example",
        "mailto:ana@shop.example",
        "tel:+86-10-1234-5678",
        "weixin://dl/business/?t=abc",
        "/relative/path",
        "offers/java:script",  # a path, not a scheme
    ],
)
def test_safe_urls_from_contact_data_are_kept(site):
    assert values('<a href="{{ contact.attributes.site }}">x</a>', site=site) == {"href": site}


def test_values_after_the_scheme_and_outside_url_attributes_are_left_alone():
    html = (
        '<a href="https://shop.example/?to={{ contact.attributes.site }}">x</a>'
        '<p title="{{ contact.attributes.site }}">{{ contact.attributes.site }}</p>'
    )
    environment = html_environment()
    assert guard_source(html, environment) is html  # no filter added: rendering costs the same
    page = rendered(html, site="javascript:alert(1)")
    assert Attributes(page).found == [
        ("a", "href", "https://shop.example/?to=javascript:alert(1)"),
        ("p", "title", "javascript:alert(1)"),
    ]


def test_the_products_own_links_are_not_wrapped_unless_the_template_reassigns_them():
    html = '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
    assert guard_source(html, html_environment()) is html
    reassigned = "{% set unsubscribe_url = contact.attributes.site %}" + html
    assert "edm_url" in guard_source(reassigned, html_environment())
    assert values(reassigned, site="javascript:alert(1)") == {"href": "about:blank"}


def test_a_url_value_that_spans_two_branches_is_refused_with_a_message():
    html = (
        '<a href="{% if contact.name %}{{ contact.attributes.site }}"{% else %}#"{% endif %}>x</a>'
    )
    with pytest.raises(InvalidContentError, match="href= value must open and close"):
        compile_content(Content(subject="Hi", html=html), campaign_name="Spring")


def test_messages_built_for_sending_carry_the_neutralized_url():
    campaign = CampaignMessage(
        campaign_id=42,
        campaign_name="Spring",
        content=Content(subject="Hi", html='<p><a href="{{ contact.attributes.site }}">x</a></p>'),
        sender=Sender("Shop", "news@shop.example.com"),
        public_url="https://mail.example.com",
        bounce_domain="bounces.example.com",
        secret="test-secret",
    )
    recipient = Recipient(1, 2, "eve@example.com", "Eve", {"site": "java\tscript:alert(1)"})
    html = render_recipient(compile_message(campaign), recipient).html
    assert Attributes(html).found == [("a", "href", "about:blank")]
