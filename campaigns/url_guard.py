"""Contact data cannot make a link or an image run script: `javascript:`, `vbscript:` and
`data:` URLs are neutralized in URL attributes that print a value.

    source = guard_source(source, environment)    # once per campaign, before compiling

At compile time the HTML source is read next to Jinja's lexer: an attribute that holds a URL
(`href`, `src`, `action`, `srcset`…) and prints a value before its scheme is settled — at
its start (`href="{{ contact.attributes.site }}"`) or after a literal that could still
become a scheme (`href="java{{ … }}"`), or inside an unsafe scheme the author wrote
(`href="javascript:track('{{ contact.name }}')"`) — has its whole value wrapped in
`{% filter edm_url %}…{% endfilter %}`. The filter sees the value as the browser will:
entities decoded (`&#106;avascript:`), tabs and line breaks removed (`java\\tscript:`),
leading controls and spaces stripped; an unsafe scheme makes the value `about:blank`, which
neither runs nor loads anything in any attribute (`#` would make an `<img src>` load the page
it is shown in). Wrapping the whole value, not each printed value, also catches a scheme
split across two values (`{{ a }}{{ b }}` with "java" and "script:…").

Nothing else is touched, so rendering costs nothing more for the usual template: a literal
URL with values in its path or query (`https://shop.example/?c={{ contact.email }}`), or the
product's own `{{ unsubscribe_url }}` and `{{ view_online_url }}` (unless the template assigns
those names). A `javascript:` URL the author wrote with no value in it is left as written:
it is the same in every message and shown by the preview; mail clients drop such links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from jinja2 import Environment, TemplateSyntaxError
from markupsafe import Markup, escape

URL_FILTER = "edm_url"
URL_LIST_FILTER = "edm_url_list"
BLANK = "about:blank"

# Attributes whose value a browser or mail client loads or navigates to (HTML, SVG, old HTML).
URL_ATTRIBUTES = frozenset(
    {
        "action",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "dynsrc",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "lowsrc",
        "manifest",
        "poster",
        "profile",
        "src",
        "usemap",
        "xlink:href",
    }
)
# Attributes holding several URLs: any of them may be the unsafe one.
URL_LIST_ATTRIBUTES = frozenset({"archive", "imagesrcset", "ping", "srcset"})
UNSAFE_SCHEMES = frozenset({"javascript", "vbscript", "data"})
# The product's own links: https URLs it builds, never contact data.
TRUSTED_NAMES = frozenset({"unsubscribe_url", "view_online_url"})

_TAG_OPEN = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
_RAWTEXT_TAGS = frozenset({"script", "style", "textarea", "title"})
_NAME_END = re.compile(r"[\s=>/]")
_UNQUOTED_END = re.compile(r"[\s>]")
_SPACE = re.compile(r"\s*")
# Removed anywhere by URL parsers, and stripped from both ends (WHATWG URL §4.4).
_IGNORED = re.compile(r"[\t\n\r]")
_EDGES = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SCHEME_SO_FAR = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_CANDIDATE_START = re.compile(r"(?:^|[\s,])([A-Za-z][A-Za-z0-9+.-]*):")


def url_checked(value):
    """The rendered value of a URL attribute, or `about:blank` if its scheme is unsafe."""
    if str(value).startswith(("https://", "http://")):
        return value  # most links: settled at once
    return _checked(value, _unsafe_url)


def url_list_checked(value):
    """The rendered value of a list of URLs (`srcset`), or `about:blank` if one is unsafe."""
    return _checked(value, _unsafe_list)


def guard_source(source: str, environment: Environment) -> str:
    """The HTML template source with every URL attribute that prints a value wrapped in the
    checking filter (registered on `environment`); the source itself when there is none.

    Raises TemplateSyntaxError when such a value cannot be wrapped because it opens in one
    branch of an `{% if %}` and closes in another.
    """
    tokens = list(environment.lex(source))
    assigned = _names_in_statements(tokens)
    scanner = _Scanner()
    pieces: list[str] = []
    value: _Value | None = None
    changed = False

    def close(at_line: int) -> None:
        nonlocal value, changed
        if value is not None and value.needs_guard():
            _wrap(pieces, value, environment, at_line)
            changed = True
        value = None

    for line, part in _parts(tokens):
        if isinstance(part, str):
            start = 0
            for position, event, attribute in scanner.feed(part):
                segment, start = part[start:position], position
                pieces.append(segment)
                if value is not None:
                    value.literal(segment)
                if event == "end":
                    close(line)
                elif attribute in URL_ATTRIBUTES or attribute in URL_LIST_ATTRIBUTES:
                    value = _Value(attribute, len(pieces))
            pieces.append(part[start:])
            if value is not None:
                value.literal(part[start:])
            continue
        if scanner.state == "before_value":  # `href={{ … }}`: an unquoted value starts here
            attribute = scanner.start_unquoted_value()
            if attribute in URL_ATTRIBUTES or attribute in URL_LIST_ATTRIBUTES:
                value = _Value(attribute, len(pieces))
        if value is not None and scanner.state == "value":
            value.construct(part, trusted=_trusted(part, assigned))
        pieces.append(part.source)
    close(tokens[-1][0] if tokens else 1)
    if not changed:
        return source
    environment.filters[URL_FILTER] = url_checked
    environment.filters[URL_LIST_FILTER] = url_list_checked
    return "".join(pieces)


def _checked(value, unsafe) -> Markup | str:
    text = str(value)
    # Autoescaped output is what the browser decodes before reading the URL.
    seen = html.unescape(text) if isinstance(value, Markup) else text
    if unsafe(_IGNORED.sub("", seen).strip(_EDGES)):
        return escape(BLANK)  # Markup, so autoescaping leaves it as it is
    return value


def _unsafe_url(url: str) -> bool:
    scheme = _SCHEME.match(url)
    return scheme is not None and scheme.group(1).lower() in UNSAFE_SCHEMES


def _unsafe_list(urls: str) -> bool:
    return any(m.group(1).lower() in UNSAFE_SCHEMES for m in _CANDIDATE_START.finditer(urls))


class _Construct:
    """One `{{ … }}`, `{% … %}` or `{% raw %}…{% endraw %}` of the source, as written."""

    __slots__ = ("kind", "names", "source")

    def __init__(self, source: str, kind: str, names: list[str]):
        self.source = source
        self.kind = kind  # variable | block | comment | raw
        self.names = names  # the names it mentions, in order


class _Value:
    """An attribute value being read: what it holds before its scheme is settled."""

    def __init__(self, attribute: str, start: int):
        self.attribute = attribute
        self.start = start  # index in the output pieces where the value begins
        self.prefix = ""  # literal text before the first construct
        self.constructs = 0
        self.untrusted = False

    def literal(self, text: str) -> None:
        if not self.constructs:
            self.prefix += text

    def construct(self, part: _Construct, *, trusted: bool) -> None:
        if part.kind == "comment":
            return
        self.constructs += 1
        self.untrusted = self.untrusted or not trusted

    def needs_guard(self) -> bool:
        if not self.untrusted:
            return False
        if self.attribute in URL_LIST_ATTRIBUTES:
            return True
        prefix = _IGNORED.sub("", html.unescape(self.prefix)).lstrip(_EDGES)
        if not prefix or _SCHEME_SO_FAR.fullmatch(prefix):
            return True  # a value printed here can still write the scheme
        scheme = _SCHEME.match(prefix)
        return scheme is not None and scheme.group(1).lower() in UNSAFE_SCHEMES


def _wrap(pieces: list[str], value: _Value, environment: Environment, line: int) -> None:
    inner = "".join(pieces[value.start :])
    try:
        environment.parse(inner)
    except TemplateSyntaxError:
        raise TemplateSyntaxError(
            f"the {value.attribute}= value must open and close in the same branch of an "
            "{% if %} or {% for %}, so that the address can be checked",
            line,
        ) from None
    name = URL_LIST_FILTER if value.attribute in URL_LIST_ATTRIBUTES else URL_FILTER
    start, end = environment.block_start_string, environment.block_end_string
    pieces.insert(value.start, f"{start} filter {name} {end}")
    pieces.append(f"{start} endfilter {end}")


def _parts(tokens: list[tuple[int, str, str]]) -> Iterator[tuple[int, str | _Construct]]:
    """The source as data and constructs, in order, each with its line."""
    current: list[str] = []
    names: list[str] = []
    kind = None
    for line, lexeme, text in tokens:
        if kind is None:
            if lexeme == "data":
                yield line, text
                continue
            kind = lexeme.removesuffix("_begin")
            current, names = [], []
        current.append(text)
        if lexeme == "name":
            names.append(text)
        if lexeme == f"{kind}_end":
            yield line, _Construct("".join(current), kind, names)
            kind = None
        elif kind == "raw" and lexeme == "data":
            names.append("")  # raw text: never a trusted name


def _names_in_statements(tokens: list[tuple[int, str, str]]) -> set[str]:
    """Every name a `{% … %}` mentions: a trusted name assigned there is not trusted."""
    return {
        name
        for _, part in _parts(tokens)
        if isinstance(part, _Construct) and part.kind == "block"
        for name in part.names
    }


def _trusted(part: _Construct, assigned: set[str]) -> bool:
    """Whether a construct prints only one of the product's own links."""
    if part.kind != "variable" or len(part.names) != 1 or part.names[0] not in TRUSTED_NAMES:
        return False
    inner = part.source.strip("{}-+ \t\r\n")
    return inner == part.names[0] and part.names[0] not in assigned


class _Scanner:
    """Just enough of HTML's tokenizer to know which attribute value a position is in."""

    def __init__(self):
        self.state = "text"  # text | tag | after_name | before_value | value | comment | rawtext
        self.tag = ""
        self.closing = False
        self.attribute = ""
        self.quote = ""  # the value's quote; "" for an unquoted value

    def start_unquoted_value(self) -> str:
        self.state, self.quote = "value", ""
        return self.attribute

    def feed(self, data: str) -> Iterator[tuple[int, str, str]]:
        """(position, "start" | "end", attribute) where attribute values start and end."""
        i = 0
        while i < len(data):
            state = self.state
            if state == "text":
                i = self._in_text(data, i)
            elif state == "comment":
                end = data.find("-->", i)
                if end < 0:
                    return
                self.state, i = "text", end + 3
            elif state == "rawtext":
                end = data.lower().find(f"</{self.tag}", i)
                if end < 0:
                    return
                self.state, self.closing, i = "tag", True, end + 2 + len(self.tag)
            elif state == "value":
                if self.quote:
                    end = data.find(self.quote, i)
                    if end < 0:
                        return
                    yield end, "end", self.attribute
                    self.state, i = "tag", end + 1
                else:
                    found = _UNQUOTED_END.search(data, i)
                    if found is None:
                        return
                    yield found.start(), "end", self.attribute
                    self.state, i = "tag", found.start()
            else:
                i = _SPACE.match(data, i).end()
                if i >= len(data):
                    return
                char = data[i]
                if state == "before_value":
                    if char == ">":
                        self.state = "tag"
                        continue
                    self.state, self.quote = "value", char if char in "\"'" else ""
                    i += 1 if self.quote else 0
                    yield i, "start", self.attribute
                elif state == "after_name" and char == "=":
                    self.state, i = "before_value", i + 1
                elif char == ">":
                    rawtext = self.tag in _RAWTEXT_TAGS and not self.closing
                    self.state, i = ("rawtext" if rawtext else "text"), i + 1
                elif char == "/":
                    self.state, i = "tag", i + 1
                else:
                    end = _NAME_END.search(data, i + 1)
                    end = end.start() if end else len(data)
                    self.attribute = data[i:end].lower()
                    self.state, i = "after_name", end

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
