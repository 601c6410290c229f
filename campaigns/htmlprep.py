"""CSS inlining and plain-text conversion of HTML parts, on rendered HTML or on template sources.

Mail clients ignore most `<style>` blocks, so rules are moved into `style` attributes
(css-inline); the plain-text part defaults to html2text's reading of the HTML. Both are far too
slow to run per recipient (css-inline ~0.3 ms, html2text ~13 ms for 20 KB), so when a campaign
is compiled they run once on the template *source*, with every Jinja construct swapped for an
inert placeholder that the HTML parser keeps in place:

- an expression (`{{ … }}`) becomes a word (`edm…x7y`), valid in text and in attribute values;
- a statement (`{% … %}`) in text becomes an HTML comment, which the HTML5 parser never moves
  (text directly inside `<table>` would be "foster-parented" out of it).

The result is accepted only if every placeholder comes back once, statements in their order;
otherwise (Jinja inside `<style>` or between attributes, `|safe` values that carry markup…)
the caller falls back to converting each rendered message, which is always right, only slower.
"""

from __future__ import annotations

import re
import secrets
from typing import NamedTuple

import css_inline
import html2text
from jinja2 import Environment

_STYLE_TAG = re.compile(r"<style[\s>]", re.IGNORECASE)
_TAG_OPEN = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
_ATTRIBUTE_NAME = re.compile(r"([^\s=/>\"']+)\s*=\s*$")
_RAWTEXT_TAGS = frozenset({"style", "script"})
# html2text keeps link targets and drops every other attribute value.
_TEXT_KEPT_ATTRIBUTES = frozenset({"href"})

_INLINER = css_inline.CSSInliner(
    load_remote_stylesheets=False,  # never fetch anything a template points at
    keep_link_tags=True,
    keep_at_rules=True,  # @media rules cannot be inlined; responsive layouts need them kept
)


class CssInlineError(ValueError):
    """The HTML's CSS could not be parsed for inlining."""


def inline_css(html: str) -> str:
    """Move the rules of `<style>` blocks into `style` attributes, as mail clients need."""
    if not _STYLE_TAG.search(html):
        return html
    try:
        return _INLINER.inline(html)
    except css_inline.InlineError as exc:
        raise CssInlineError(f"the CSS could not be inlined: {exc}") from exc


def html_to_text(html: str) -> str:
    """The plain-text reading of an HTML part (links kept, images left out)."""
    converter = html2text.HTML2Text()
    converter.body_width = 0  # mail clients wrap text themselves
    converter.ignore_images = True
    converter.ignore_tables = True  # mail layouts are tables: no grid marks in the text
    converter.unicode_snob = True  # keep "é" and Chinese as they are, not ASCII look-alikes
    return converter.handle(html)


def inline_css_in_template(source: str, environment: Environment) -> str | None:
    """The template source with its CSS inlined, or None if that must wait for rendering."""
    if not _STYLE_TAG.search(source):
        return source
    protected = _protect(source, environment, for_text=False)
    if protected is None:
        return None
    try:
        inlined = _INLINER.inline(protected.html)
    except css_inline.InlineError:
        return None
    return protected.restore(inlined)


def text_template_from_html(source: str, environment: Environment) -> str | None:
    """A text template read from an HTML template's source, or None when it cannot be."""
    protected = _protect(source, environment, for_text=True)
    if protected is None:
        return None
    # html2text leaves out <title> and the like: a value printed there is simply not in the text.
    return protected.restore(html_to_text(protected.html), expressions_may_vanish=True)


class _Construct(NamedTuple):
    source: str
    statement: bool  # {% … %}: shapes the output; otherwise it prints a value
    marks_safe: bool  # prints markup the HTML parser would see only after rendering


class _Protected(NamedTuple):
    html: str
    constructs: dict[str, _Construct]  # placeholder as written in `html` -> its construct

    def restore(self, converted: str, *, expressions_may_vanish: bool = False) -> str | None:
        """Put the Jinja constructs back, if each placeholder survived once, statements in order.

        Expressions may move (the parser reorders attributes, and moves text out of a table
        exactly as a browser would with the rendered message); statements must not.
        """
        position = -1
        for placeholder, construct in self.constructs.items():
            count = converted.count(placeholder)
            if count == 0 and expressions_may_vanish and not construct.statement:
                continue
            if count != 1:
                return None
            if construct.statement:
                found = converted.find(placeholder)
                if found <= position:
                    return None
                position = found
        if not self.constructs:
            return converted
        pattern = re.compile("|".join(re.escape(p) for p in self.constructs))
        return pattern.sub(lambda match: self.constructs[match.group()].source, converted)


def _split(source: str, environment: Environment) -> list[str | _Construct]:
    """The source as HTML data and Jinja constructs, in order (comments dropped)."""
    parts: list[str | _Construct] = []
    current: list[str] = []
    kind = None
    marks_safe = False
    previous = None
    for _line, lexeme, value in environment.lex(source):
        if kind is None:
            if lexeme == "data":
                parts.append(value)
                continue
            kind = lexeme.removesuffix("_begin")
            current, marks_safe = [], False
        current.append(value)
        # `x|safe` and `{% autoescape false %}` print markup the parser cannot see yet.
        if lexeme == "name" and (previous, value) in {("|", "safe"), ("{%", "autoescape")}:
            marks_safe = True
        if lexeme != "whitespace":
            previous = "{%" if lexeme == "block_begin" else value if lexeme == "operator" else None
        if lexeme == f"{kind}_end":
            if kind != "comment":
                parts.append(_Construct("".join(current), kind == "block", marks_safe))
            kind = None
    return parts


class _HtmlScanner:
    """Just enough of HTML's tokenizer to know where a Jinja construct sits."""

    def __init__(self):
        self.state = "text"  # text | tag | value | comment | rawtext
        self.tag = ""
        self.closing = False
        self.quote = ""
        self.attribute = ""

    def feed(self, data: str) -> None:
        i = 0
        while i < len(data):
            if self.state == "text":
                i = self._in_text(data, i)
            elif self.state == "tag":
                i = self._in_tag(data, i)
            elif self.state == "value":
                end = data.find(self.quote, i)
                if end < 0:
                    return
                self.state, i = "tag", end + 1
            elif self.state == "comment":
                end = data.find("-->", i)
                if end < 0:
                    return
                self.state, i = "text", end + 3
            else:  # rawtext: only the matching end tag ends it
                end = data.lower().find(f"</{self.tag}", i)
                if end < 0:
                    return
                self.state, self.tag, self.closing = "tag", self.tag, True
                i = end + 2 + len(self.tag)

    def _in_text(self, data: str, i: int) -> int:
        start = data.find("<", i)
        if start < 0:
            return len(data)
        if data.startswith("<!--", start):
            self.state = "comment"
            return start + 4
        match = _TAG_OPEN.match(data, start)
        if match is None:
            return start + 1
        self.state, self.closing, self.tag = "tag", bool(match.group(1)), match.group(2).lower()
        return match.end()

    def _in_tag(self, data: str, i: int) -> int:
        for j in range(i, len(data)):
            char = data[j]
            if char == ">":
                rawtext = self.tag in _RAWTEXT_TAGS and not self.closing
                self.state = "rawtext" if rawtext else "text"
                return j + 1
            if char in "\"'":
                name = _ATTRIBUTE_NAME.search(data, i, j)
                self.state, self.quote = "value", char
                self.attribute = name.group(1).lower() if name else ""
                return j + 1
        return len(data)


def _protect(source: str, environment: Environment, *, for_text: bool) -> _Protected | None:
    """The source with Jinja constructs swapped for placeholders, or None if one cannot be."""
    nonce = secrets.token_hex(4)
    html: list[str] = []
    constructs: dict[str, _Construct] = {}
    scanner = _HtmlScanner()
    for part in _split(source, environment):
        if isinstance(part, str):
            html.append(part)
            scanner.feed(part)
            continue
        if part.marks_safe:
            return None
        placeholder = _placeholder(part, scanner, f"edm{nonce}x{len(constructs)}y", for_text)
        if placeholder is None:
            return None
        if placeholder:
            html.append(placeholder)
            constructs[placeholder] = part
    return _Protected("".join(html), constructs)


def _placeholder(part: _Construct, scanner: _HtmlScanner, word: str, for_text: bool) -> str | None:
    """The construct's stand-in where the scanner stands: a word, a comment, "" or None."""
    state = scanner.state
    if for_text:
        # html2text prints text and link targets only; a construct elsewhere adds no text.
        if state == "text" or (state == "value" and scanner.attribute in _TEXT_KEPT_ATTRIBUTES):
            return word
        return ""
    if state in {"value", "comment"}:
        return word
    if state == "text":
        return f"<!--{word}-->" if part.statement else word
    return None  # between attributes, or inside <style>/<script>
