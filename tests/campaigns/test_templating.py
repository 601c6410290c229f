"""Validation, compilation and rendering of campaign content."""

import datetime as dt

import pytest

from campaigns.templating import (
    Content,
    InvalidContentError,
    Part,
    Problem,
    TemplateContact,
    TemplateRenderError,
    compile_content,
    render,
    validate,
    validate_content,
)

CONTACT = TemplateContact(
    "wang.fang@example.cn",
    "王芳",
    {"city": "杭州", "plan": "gold", "signup": "2024-03-05", "items": "3 items", "empty": None},
)


def render_content(content: Content, contact: TemplateContact = CONTACT, **links):
    compiled = compile_content(content, campaign_name="Spring <Sale>")
    return render(compiled, contact, today=dt.date(2025, 1, 31), **links)


def render_html(source: str, contact: TemplateContact = CONTACT) -> str:
    return render_content(Content(subject="s", html=source), contact).html


# Validation


def test_syntax_error_is_reported_with_line_and_column():
    source = "<p>Hello</p>\n<p>{{ contact.name }</p>\n"
    result = validate(source)
    assert not result.ok
    [error] = result.errors
    assert (error.line, error.column) == (2, 20)
    assert "'}'" in error.message


def test_unknown_tag_is_reported_where_it_is_written():
    result = validate("{% for x in range(3) %}\n  {{ x }}\n  {% endfo %}")
    [error] = result.errors
    assert (error.line, error.column) == (3, 6)
    assert "endfo" in error.message


def test_unclosed_block_points_at_the_end_of_the_template():
    [error] = validate("a\n{% if contact.name %}b").errors
    assert (error.line, error.column) == (2, 23)  # just past its last character


def test_unknown_filter_is_an_error_with_its_column():
    [error] = validate("<p>{{ contact.name|shout }}</p>").errors
    assert (error.line, error.column) == (1, 20)
    assert "shout" in error.message


def test_lexer_error_column_comes_from_its_offset():
    [error] = validate("ok\nab {{ a $ b }}").errors
    assert (error.line, error.column) == (2, 9)


def test_unknown_variable_is_a_warning_not_an_error():
    result = validate("<p>{{ contact.name }}</p>\n<p>{{ coupon_code }}</p>")
    assert result.ok
    [warning] = result.warnings
    assert (warning.line, warning.column) == (2, 7)
    assert "coupon_code" in warning.message


def test_unknown_contact_field_is_a_warning():
    [warning] = validate("{{ contact.nmae }}").warnings
    assert "nmae" in warning.message


def test_known_names_give_no_warning():
    source = (
        "{{ contact.email }} {{ contact.name }} {{ contact.attributes.city }} {{ campaign.name }}"
        " {{ unsubscribe_url }} {{ view_online_url }} {{ today|date('%d.%m.%Y') }}"
        " {% for i in range(2) %}{{ i }}{% endfor %} {% set x = 1 %}{{ x }}"
    )
    assert validate(source).warnings == []


def test_attribute_no_contact_has_is_warned_when_keys_are_known():
    result = validate(
        "{{ contact.attributes.city }} {{ contact.attributes.cty }}", attribute_keys={"city"}
    )
    assert [w.message for w in result.warnings] == [
        "no contact has the attribute 'cty': it will print empty"
    ]


def test_layout_without_content_is_an_error():
    assert not validate("<html><body>nothing</body></html>", Part.LAYOUT).ok
    assert validate("<html><body>{{ content }}</body></html>", Part.LAYOUT).ok


def test_invalid_content_lists_problems_by_part():
    content = Content(subject="Hi {{ contact.name", html="<p>{% if %}</p>")
    with pytest.raises(InvalidContentError) as raised:
        compile_content(content, campaign_name="c")
    assert set(raised.value.problems) == {Part.SUBJECT, Part.HTML}
    assert set(validate_content(content)) == {Part.SUBJECT, Part.HTML}


# Rendering


def test_variables_render_for_the_recipient():
    html = render_html(
        "{{ contact.email }}|{{ contact.name }}|{{ contact.attributes.city }}|{{ campaign.name }}"
    )
    assert html == "wang.fang@example.cn|王芳|杭州|Spring &lt;Sale&gt;"


def test_links_and_today_render():
    result = render_content(
        Content(
            subject="{{ today|date('%Y年%m月%d日') }}", html="<a href='{{ unsubscribe_url }}'>"
        ),
        unsubscribe_url="https://mail.example.com/u/abc?x=1&y=2",
    )
    assert result.subject == "2025年01月31日"
    assert result.html == "<a href='https://mail.example.com/u/abc?x=1&amp;y=2'>"


def test_missing_attribute_renders_empty_or_its_default():
    html = render_html(
        "[{{ contact.attributes.shoe_size }}][{{ contact.attributes.shoe_size|default('n/a') }}]"
        "[{{ contact.attributes.a.b.c }}][{{ contact.attributes.empty }}][{{ nosuch }}]"
    )
    assert html == "[][n/a][][][]"


def test_attribute_named_like_a_dict_method_is_the_attribute():
    assert render_html("{{ contact.attributes.items }}") == "3 items"


def test_html_is_escaped_in_html_but_not_in_subject_or_text():
    contact = TemplateContact("x@example.com", "<b>Tom & Jerry</b>")
    content = Content(
        subject="{{ contact.name }}", html="{{ contact.name }}", text="{{ contact.name }}"
    )
    result = render_content(content, contact)
    assert result.html == "&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
    assert result.subject == result.text == "<b>Tom & Jerry</b>"


def test_subject_is_one_line_whatever_the_values():
    contact = TemplateContact("x@example.com", "Eve\r\nBcc: victim@example.com")
    result = render_content(Content(subject="Hi {{ contact.name }}\n!", html="x"), contact)
    assert result.subject == "Hi Eve Bcc: victim@example.com !"


def test_a_rendered_subject_longer_than_998_characters_fails_for_that_recipient():
    content = Content(subject="{{ contact.attributes.long }}", html="x")
    assert (
        len(
            render_content(content, TemplateContact("a@b.example", "", {"long": "é" * 998})).subject
        )
        == 998
    )
    with pytest.raises(TemplateRenderError) as raised:
        render_content(content, TemplateContact("a@b.example", "", {"long": "x" * 100_000}))
    assert raised.value.part == Part.SUBJECT
    assert "100,000 characters long; at most 998" in str(raised.value)


DEEP_SOURCES = {
    "5000 parentheses": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "3000 nested ifs": "{% if 1 %}" * 3000 + "x" + "{% endif %}" * 3000,
    "3000 nested set blocks": "{% set a %}" * 3000 + "x" + "{% endset %}" * 3000,
    "3000 nots": "{{ " + "not " * 3000 + "1 }}",
    "a chain of 1000 additions": "{{ " + " + ".join(["1"] * 1000) + " }}",
    "21 nested loops": "{% for a in b %}" * 21 + "{% endfor %}" * 21,
}


@pytest.mark.parametrize("source", DEEP_SOURCES.values(), ids=DEEP_SOURCES.keys())
def test_deeply_nested_sources_are_errors_not_crashes(source):
    errors = validate("<p>Hi</p>\n" + source, Part.HTML).errors
    assert len(errors) == 1
    assert "nests more than 32 levels" in errors[0].message or "too complex" in errors[0].message
    with pytest.raises(InvalidContentError):
        compile_content(Content(subject="s", html=source), campaign_name="c")


def test_nesting_is_reported_at_the_line_it_passes_the_limit():
    source = "{% if a %}\n" * 20 + "{{ " + "(" * 13 + "1" + ")" * 13 + " }}" + "{% endif %}" * 20
    assert validate(source, Part.HTML).errors == [
        Problem(
            21, None, "the template nests more than 32 levels deep (blocks and brackets together)"
        )
    ]
    assert validate("{% if a %}" * 32 + "{% endif %}" * 32, Part.HTML).ok
    assert validate("{% set a = [(1)] %}" * 100 + "{% set b %}x{% endset %}" * 100, Part.HTML).ok


def test_filters_format_dates_and_titles():
    html = render_html(
        "{{ contact.attributes.signup|date('%d/%m/%Y') }} {{ 'hello world'|title }}"
        " {{ contact.attributes.plan|upper }} {{ 'not a date'|date }}"
    )
    assert html == "05/03/2024 Hello World GOLD not a date"


def test_body_is_placed_into_the_layout():
    content = Content(
        subject="s",
        html="<p>Hi {{ contact.name }}</p>",
        layout="<html><body><h1>{{ campaign.name }}</h1>{{ content }}<footer>f</footer>"
        "</body></html>",
    )
    html = render_content(content).html
    assert "<h1>Spring &lt;Sale&gt;</h1><p>Hi 王芳</p><footer>f</footer>" in html


def test_layout_css_is_inlined_into_the_body_once_per_campaign():
    content = Content(
        subject="s",
        html="<p class='lead'>Hi {{ contact.name }}</p>",
        layout="<html><head><style>p.lead { color: #123456 }</style></head>"
        "<body>{{ content }}</body></html>",
    )
    compiled = compile_content(content, campaign_name="c")
    assert compiled.css_inlined
    html = render(compiled, CONTACT).html
    assert 'style="color: #123456;"' in html and "Hi 王芳" in html and "<style>" not in html


def test_media_queries_stay_in_a_style_block():
    html = render_html(
        "<html><head><style>p{color:red} @media (max-width: 600px) { p { color: blue } }</style>"
        "</head><body><p>x</p></body></html>"
    )
    assert 'style="color: red;"' in html and "@media (max-width: 600px)" in html


def test_css_depending_on_values_is_inlined_per_recipient():
    content = Content(
        subject="s",
        html="<style>p { color: {{ contact.attributes.plan }} }</style><p>x</p>",
    )
    compiled = compile_content(content, campaign_name="c")
    assert not compiled.css_inlined
    assert 'style="color: gold;"' in render(compiled, CONTACT).html


def test_loops_inside_tables_keep_their_rows_when_inlined():
    content = Content(
        subject="s",
        html="<style>td { padding: 2px }</style><table>{% for i in range(3) %}"
        "<tr><td>{{ i }}</td></tr>{% endfor %}</table>",
    )
    compiled = compile_content(content, campaign_name="c")
    assert compiled.css_inlined
    html = render(compiled, CONTACT).html
    assert html.count('<td style="padding: 2px;">') == 3
    assert [html.find(f">{i}<") > 0 for i in range(3)] == [True] * 3


def test_text_part_is_read_from_the_html_when_empty():
    content = Content(
        subject="s",
        html="<html><head><title>{{ campaign.name }}</title></head>"
        "<body><h1>Hello {{ contact.name }}</h1>"
        "<p>Your plan: <b>{{ contact.attributes.plan }}</b></p>"
        "<a href='{{ unsubscribe_url }}' class='{% if contact.name %}named{% endif %}'>"
        "Unsubscribe</a>"
        "</body></html>",
    )
    compiled = compile_content(content, campaign_name="c")
    assert compiled.text is not None  # read once from the source, not per recipient
    text = render(compiled, CONTACT, unsubscribe_url="https://u.example/t?a=1&b=2").text
    assert "# Hello 王芳" in text
    assert "Your plan: **gold**" in text
    assert "[Unsubscribe](https://u.example/t?a=1&b=2)" in text
    assert "<" not in text


def test_text_part_as_written_is_kept():
    content = Content(subject="s", html="<p>html</p>", text="Hi {{ contact.name }}, plain.")
    assert render_content(content).text == "Hi 王芳, plain."


def test_text_is_converted_per_recipient_when_the_source_cannot_be():
    content = Content(subject="s", html="<p>{{ contact.attributes.plan|safe }}</p>")
    compiled = compile_content(content, campaign_name="c")
    assert compiled.text is None
    contact = TemplateContact("x@example.com", "x", {"plan": "<b>gold</b>"})
    assert render(compiled, contact).text.strip() == "**gold**"


def test_text_part_read_from_the_html_sees_the_campaign():
    text = render_content(Content(subject="s", html="<p>{{ campaign.name }} for you</p>")).text
    assert text.strip() == "Spring <Sale> for you"


def test_layout_without_content_cannot_be_compiled():
    content = Content(subject="s", html="<p>x</p>", layout="<html><body></body></html>")
    with pytest.raises(InvalidContentError) as raised:
        compile_content(content, campaign_name="c")
    assert list(raised.value.problems) == [Part.LAYOUT]


def test_warnings_on_one_line_are_sorted_even_without_columns():
    result = validate("{{ zeta }} {{ alpha }} {{ contact.nmae }}")
    assert [w.message for w in result.warnings] == [
        "unknown variable 'zeta'",
        "unknown variable 'alpha'",
        "contact has no field 'nmae'",
    ]
