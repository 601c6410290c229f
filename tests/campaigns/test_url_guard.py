"""Contact data cannot add attributes to a tag, nor put a `javascript:`, `vbscript:` or `data:`
URL into a link or an image."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from campaigns.sandbox import TemplateContact, html_environment
from campaigns.templating import (
    Content,
    InvalidContentError,
    Part,
    Problem,
    compile_content,
    render,
    validate,
)
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


# Unquoted attribute values: autoescaping leaves spaces, so a value could end and start another.


def test_a_space_in_an_unquoted_href_value_cannot_add_an_event_handler():
    page = rendered(
        "<a href={{ contact.attributes.site }}>x</a>", site="https://a onmouseover=alert(1)"
    )
    assert Attributes(page).found == [("a", "href", "https://a onmouseover=alert(1)")]


@pytest.mark.parametrize(
    "attack",
    [
        "100 onclick=alert(1)",
        "100\tonclick=alert(1)",
        "100\nonclick=alert(1)",
        "100\x0conclick=alert(1)",
        "100\ronclick=alert(1)",
        "100 style=background:url(https://tracker.example/)",
    ],
)
def test_whitespace_in_an_unquoted_value_cannot_add_an_attribute(attack):
    page = rendered('<td width={{ contact.attributes.w }} class="cell">x</td>', w=attack)
    assert Attributes(page).found == [("td", "width", attack), ("td", "class", "cell")]


def test_a_space_in_an_unquoted_value_inside_an_if_cannot_add_an_attribute():
    html = "<td width={% if contact.name %}{{ contact.attributes.w }}{% else %}50{% endif %}>"
    page = rendered(html, w="100 onclick=alert(1)")
    assert Attributes(page).found == [("td", "width", "100 onclick=alert(1)")]


def test_a_space_in_an_unquoted_value_marked_safe_cannot_add_an_attribute():
    page = rendered("<td title={{ contact.attributes.t|safe }}>x</td>", t="a onclick=alert(1)")
    assert Attributes(page).found == [("td", "title", "a onclick=alert(1)")]


def test_an_unquoted_value_writes_what_could_end_it_as_character_references():
    page = rendered("<td title={{ contact.attributes.t }}>", t="a b=c`d'e\"f<g>h")
    # OWASP's rule for unquoted values; `<`, `>` and quotes were already escaped.
    assert page == "<td title=a&#32;b&#61;c&#96;d&#39;e&#34;f&lt;g&gt;h>"
    assert Attributes(page).found == [("td", "title", "a b=c`d'e\"f<g>h")]


def test_a_statement_between_href_and_its_quote_does_not_hide_a_script_url():
    html = '<a href={% if contact.name %}"{{ contact.attributes.site }}"{% else %}"#"{% endif %}>'
    assert values(html, site="javascript:alert(1)") == {"href": "about:blank"}


# Between attributes, or right after `<`, no escaping can help: the template is refused.


@pytest.mark.parametrize(
    ("html", "line", "column"),
    [
        ("<td {{ contact.attributes.x }}>", 1, 5),
        ("<td{{ contact.attributes.x }}>", 1, 4),
        ("<p>\n  <td nowrap {{ contact.attributes.x }}>", 2, 14),
        ('<a href="#"{{ contact.attributes.x }}>', 1, 12),
        ('<td data-{{ contact.attributes.x }}="1">', 1, 10),
        ('<input {{ "checked" if contact.attributes.x }}>', 1, 8),
        ("<td {{ contact.attributes.x|safe|trim }}>", 1, 5),
        ("<td {% if contact.name %}{{ contact.attributes.x }}{% endif %}>", 1, 26),
    ],
)
def test_a_value_printed_between_attributes_cannot_add_an_event_handler(html, line, column):
    [error] = validate(html).errors
    assert (error.line, error.column) == (line, column)
    assert 'put it inside a quoted attribute value, e.g. class="{{ … }}"' in error.message
    with pytest.raises(InvalidContentError) as refused:
        compile_content(Content(subject="Hi", html=html), campaign_name="Spring")
    assert refused.value.problems == {Part.HTML: [error]}


@pytest.mark.parametrize(
    ("html", "column"),
    [
        ("<p>a <{{ contact.attributes.x }}</p>", 7),
        ("<p>a <{% if contact.name %}{{ contact.attributes.x }}{% endif %}</p>", 28),
    ],
)
def test_a_value_printed_right_after_lt_cannot_open_a_tag_with_an_event_handler(html, column):
    [error] = validate(html).errors
    assert (error.line, error.column) == (1, column)
    assert "right after <" in error.message
    with pytest.raises(InvalidContentError, match="right after <"):
        compile_content(Content(subject="Hi", html=html), campaign_name="Spring")


def test_a_value_printed_as_an_end_tag_name_is_refused_too():
    # Browsers drop an end tag's attributes; the tag name alone can still reshape the message.
    [error] = validate("<p>a</{{ contact.attributes.x }}></p>").errors
    assert "right after <" in error.message


def test_a_macro_called_between_attributes_cannot_add_an_event_handler():
    html = (
        "{% macro extra() %}{{ contact.attributes.x }}{% endmacro %}"
        "<td {% call extra() %}{% endcall %}>"
    )
    [error] = validate(html).errors
    assert (error.line, error.column) == (1, 64)
    with pytest.raises(InvalidContentError, match="quoted attribute value"):
        compile_content(Content(subject="Hi", html=html), campaign_name="Spring")


def test_a_value_marked_safe_between_attributes_is_the_authors_choice():
    html = "<td {{ contact.attributes.x|safe }}>"
    assert validate(html).ok
    assert guard_source(html, html_environment()) is html
    assert rendered(html, x='class="wide"') == '<td class="wide">'


def test_the_layout_is_checked_too():
    [error] = validate("<body {{ contact.attributes.x }}>{{ content }}</body>", Part.LAYOUT).errors
    assert (error.line, error.column) == (1, 7)


# A URL value spread over two branches is refused while typing, not only when sending.


def test_a_url_value_that_spans_two_branches_is_reported_while_typing():
    html = (
        '<p>\n<a href="{% if contact.name %}{{ contact.attributes.site }}"{% else %}#"{% endif %}>'
    )
    assert validate(html).errors == [
        Problem(
            2,
            10,
            "the href= value must open and close in the same branch of an {% if %} or "
            "{% for %}, so that the address can be checked",
        )
    ]


@pytest.mark.parametrize(
    ("html", "column"),
    [
        ('<td {% if contact.name %}title="{% endif %}{{ contact.attributes.x }}">', 33),
        ('<td title="{{ contact.attributes.x }}{% if contact.name %}"{% endif %}>', 12),
    ],
)
def test_a_quote_in_one_branch_cannot_leave_a_value_between_attributes(html, column):
    # Read straight through the value looks quoted; in the other branch it is not.
    [error] = validate(html).errors
    assert (error.line, error.column) == (1, column)
    assert "title= value must open and close in the same branch" in error.message
    with pytest.raises(InvalidContentError, match="title= value must open and close"):
        compile_content(Content(subject="Hi", html=html), campaign_name="Spring")


@pytest.mark.parametrize(
    ("html", "column"),
    [
        ("<td {% if contact.name %}>{% endif %}{{ contact.attributes.x }}>", 38),
        ("{% for i in [1] %}<td {% endfor %}{{ contact.attributes.x }}>", 35),
    ],
)
def test_a_tag_closed_in_one_branch_cannot_leave_a_value_between_attributes(html, column):
    [error] = validate(html).errors
    assert (error.line, error.column) == (1, column)
    assert "a tag must open and close in the same branch" in error.message
    with pytest.raises(InvalidContentError, match="a tag must open and close"):
        compile_content(Content(subject="Hi", html=html), campaign_name="Spring")


def test_an_unquoted_value_landing_between_attributes_in_another_branch_cannot_add_one():
    html = "<td {% if contact.name %}title={% endif %}{{ contact.attributes.x }}>"
    compiled = compile_content(Content(subject="Hi", html=html), campaign_name="Spring")
    contact = TemplateContact("ana@shop.example", "", {"x": "x/onclick=alert(1) y"})
    names = [name for _, name, _ in Attributes(render(compiled, contact).html).found]
    assert len(names) == 1 and "onclick" not in names


def test_an_unquoted_value_inside_an_if_around_its_attribute_is_encoded_not_refused():
    html = '<img {% if contact.attributes.w %}width={{ contact.attributes.w }}{% endif %} alt="">'
    assert validate(html).ok
    page = rendered(html, w="600 onload=alert(1)")
    assert Attributes(page).found == [("img", "width", "600 onload=alert(1)"), ("img", "alt", "")]


# Ordinary templates: no filter is added, so they render as fast as before.


@pytest.mark.parametrize(
    "html",
    [
        "<p class=\"{{ contact.attributes.tier }}\" title='{{ contact.name }}'>Hi</p>",
        "<p>Hi {{ contact.name }}, {{ contact.attributes.city|default('there') }}!</p>",
        '<input type="checkbox" {% if contact.attributes.vip %}checked{% endif %}>',
        '<td {% if contact.attributes.vip %}class="gold"{% else %}class="plain"{% endif %}>',
        '<td width=100 align=center {# fixed width: Outlook #} bgcolor="#fff">',
        "<p>{{ contact.attributes.a }} < {{ contact.attributes.b }} <b>{{ campaign.name }}</b>",
        "<!-- for {{ contact.email }} --><title>{{ campaign.name }}</title>",
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a> <a href={{ view_online_url }}>View</a>',
        '<img src="https://shop.example/p.png?c={{ contact.email|urlencode }}" alt="">',
        "{% for item in ['a', 'b'] %}<li data-i=\"{{ loop.index }}\">{{ item }}</li>{% endfor %}",
        "{% if contact.name %}<b>{% else %}<i>{% endif %}{{ contact.name }}",
        '{% if contact.name %}<td class="x"{% else %}<td{% endif %}>{{ contact.name }}</td>',
    ],
)
def test_an_ordinary_template_compiles_exactly_as_written(html):
    assert guard_source(html, html_environment()) is html
    assert validate(html).ok


def test_a_body_placed_in_a_layout_compiles_exactly_as_written():
    layout = (
        '<html><body style="margin:0">{{ content }}'
        '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
    )
    body = '<p class="{{ contact.attributes.tier }}">Hi {{ contact.name }}</p>'
    placed = layout.replace("{{ content }}", body)
    assert guard_source(placed, html_environment()) is placed
    assert validate(layout, Part.LAYOUT).ok and validate(body).ok
    compiled = compile_content(Content(subject="Hi", html=body, layout=layout), campaign_name="S")
    page = render(compiled, TemplateContact("ana@shop.example", "Ana", {"tier": "gold"})).html
    assert '<p class="gold">Hi Ana</p>' in page
