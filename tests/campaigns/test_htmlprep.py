"""CSS inlining and plain-text reading of HTML, as the preview and the built messages get them."""

import http.server
import threading

import pytest

from campaigns import htmlprep
from campaigns.sandbox import html_environment


def test_style_rules_move_into_style_attributes():
    html = htmlprep.inline_css("<html><head><style>p { color: red }</style></head><p>x</p></html>")
    assert '<p style="color: red;">x</p>' in html
    assert "<style>" not in html


def test_html_without_style_is_returned_as_is():
    assert htmlprep.inline_css("<p>x</p>") == "<p>x</p>"


def test_unparsable_inline_style_is_reported():
    with pytest.raises(htmlprep.CssInlineError):
        htmlprep.inline_css('<style>p { color: red }</style><p style="x">y</p>')


def test_remote_stylesheets_are_never_fetched():
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"p { color: blue }")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/style.css"
        html = htmlprep.inline_css(
            f'<html><head><link rel="stylesheet" href="{url}"><style>p {{ margin: 0 }}</style>'
            "</head><body><p>x</p></body></html>"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []
    assert 'style="margin: 0;"' in html


def test_text_reading_keeps_links_and_drops_images():
    text = htmlprep.html_to_text(
        "<h1>Title</h1><p>Hello <a href='https://example.com/x'>there</a>"
        "<img src='https://example.com/i.png' alt='pic'></p>"
    )
    assert "# Title" in text
    assert "[there](https://example.com/x)" in text
    assert "i.png" not in text


def test_template_with_jinja_between_attributes_is_not_inlined_early():
    source = "<style>p { color: red }</style><p {% if x %}class='a'{% endif %}>x</p>"
    assert htmlprep.inline_css_in_template(source, html_environment()) is None


def test_template_with_jinja_in_attribute_values_is_inlined_early():
    source = "<style>a { color: red }</style><a href='{{ unsubscribe_url }}'>x</a>"
    inlined = htmlprep.inline_css_in_template(source, html_environment())
    assert inlined is not None
    assert 'href="{{ unsubscribe_url }}"' in inlined and 'style="color: red;"' in inlined


def test_jinja_string_containing_quotes_survives_early_inlining():
    source = '<style>a { color: red }</style><a title="{{ contact.name|default(\'a "b"\') }}">x</a>'
    inlined = htmlprep.inline_css_in_template(source, html_environment())
    assert "{{ contact.name|default('a \"b\"') }}" in inlined


def test_text_template_keeps_statements_around_text():
    source = "<p>{% if contact.name %}Hi {{ contact.name }}{% else %}Hi there{% endif %}</p>"
    text = htmlprep.text_template_from_html(source, html_environment())
    assert text.strip() == "{% if contact.name %}Hi {{ contact.name }}{% else %}Hi there{% endif %}"


@pytest.mark.parametrize(
    "source",
    [
        "<style>p { color: red }</style><p>{{ contact.attributes.bio|safe }}</p>",
        "<style>p { color: red }</style>{%- autoescape false %}{{ x }}{% endautoescape %}",
    ],
)
def test_values_printed_as_markup_wait_for_rendering(source):
    assert htmlprep.inline_css_in_template(source, html_environment()) is None
    assert htmlprep.text_template_from_html(source, html_environment()) is None
