"""Contact data cannot make a message run script: it cannot add attributes to a tag, and
`javascript:`, `vbscript:` and `data:` URLs are neutralized in URL attributes.

    source = guard_source(source, environment)    # once per campaign, before compiling
    problems = guard_problems(source, environment)  # what the editor shows while typing

At compile time the HTML source is read next to Jinja's lexer, which tells where in the HTML
each printed value (`{{ … }}`) falls:

- In a quoted attribute value or in text, autoescaping is enough: the value cannot close the
  quote or open a tag. Nothing is added, so the usual template compiles exactly as written.
- In an unquoted value (`<td width={{ … }}>`), autoescaping is not enough: a space, a tab or
  a `>`-less `=` lets contact data start attributes of its own (`100 onmouseover=alert(1)`).
  Each such value is wrapped in `{% filter edm_unquoted %}`, which writes whitespace, `=`,
  `<`, `>`, `` ` ``, `'`, `"` and `/` as character references (OWASP's rule for unquoted
  values); the browser decodes them back inside the value, so the attribute reads as before.
- Where an attribute name or a new attribute may start (`<td {{ … }}>`, `<td{{ … }}>`,
  `<td nowrap {{ … }}>`) or right after `<`, no escaping can make a value safe: it is
  refused, by `guard_problems` (with its line and column) and by `guard_source`. A value
  marked `|safe` is the author's choice and is let through.

The source is read straight through, so the reading must hold in every branch: a quoted
value that prints a value, and a tag, must open and close in the same branch of an
`{% if %}` or `{% for %}` (`<td {% if a %}>{% endif %}{{ x }}>` is refused).

An attribute that holds a URL (`href`, `src`, `action`, `srcset`…) and prints a value before
its scheme is settled — at its start (`href="{{ contact.attributes.site }}"`) or after a
literal that could still become a scheme (`href="java{{ … }}"`), or inside an unsafe scheme
the author wrote (`href="javascript:track('{{ contact.name }}')"`) — also has its whole value
wrapped in `{% filter edm_url %}…{% endfilter %}`. The filter sees the value as the browser
will: entities decoded (`&#106;avascript:`), tabs and line breaks removed (`java\\tscript:`),
leading controls and spaces stripped; an unsafe scheme makes the value `about:blank`, which
neither runs nor loads anything in any attribute (`#` would make an `<img src>` load the page
it is shown in). Wrapping the whole value, not each printed value, also catches a scheme
split across two values (`{{ a }}{{ b }}` with "java" and "script:…"); that is why such a
value must open and close in the same branch of an `{% if %}` (it is refused otherwise).

Values need no check when the scheme is settled: a literal URL with values in its path or
query (`https://shop.example/?c={{ contact.email }}`), or the product's own
`{{ unsubscribe_url }}` and `{{ view_online_url }}` (unless the template assigns those names).
A `javascript:` URL the author wrote with no value in it is left as written: it is the same
in every message and shown by the preview; mail clients drop such links.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import NamedTuple

from jinja2 import Environment, TemplateSyntaxError, nodes
from markupsafe import Markup, escape

URL_FILTER = "edm_url"
URL_LIST_FILTER = "edm_url_list"
UNQUOTED_FILTER = "edm_unquoted"
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

IN_TAG_MESSAGE = (
    "a value printed inside a tag, outside an attribute value, could add attributes "
    '(onclick=…): put it inside a quoted attribute value, e.g. class="{{ … }}"; for an '
    "attribute that comes and goes, write it in the template inside {% if %}…{% endif %}"
)
BRANCH_TAG_MESSAGE = (
    "a tag must open and close in the same branch of an {% if %} or {% for %}: in the other "
    "branch, this value would be printed inside the tag, where it could add attributes"
)
AFTER_LT_MESSAGE = (
    "a value printed right after < could start a tag with attributes of its own: "
    "write &lt; or put a space after <"
)

_TAG_OPEN = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
_TAG_NAME = re.compile(r"[A-Za-z][^\s/>]*")
_RAWTEXT_TAGS = frozenset({"script", "style", "textarea", "title"})
_NAME_END = re.compile(r"[\s=>/]")
_UNQUOTED_END = re.compile(r"[\s>]")
_SPACE = re.compile(r"\s*")
# Scanner states in which a printed value would be read as (part of) a tag or attribute name.
_OUTSIDE_TAGS = frozenset({"text", "comment", "rawtext"})
_NAME_STATES = frozenset({"after_lt", "tag", "after_name"})
# What ends an unquoted value or starts another attribute in some browser, old IE's backtick
# included (OWASP's list for unquoted values), and `/`, which separates attributes where a
# name is read: a value landing there in some `{% if %}` branch cannot add one either.
_UNQUOTED_UNSAFE = re.compile(r"[\s=<>`'\"/]")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what Jinja's lexer turns into "\n"
# Removed anywhere by URL parsers, and stripped from both ends (WHATWG URL §4.4).
_IGNORED = re.compile(r"[\t\n\r]")
_EDGES = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_SCHEME_SO_FAR = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_CANDIDATE_START = re.compile(r"(?:^|[\s,])([A-Za-z][A-Za-z0-9+.-]*):")


class GuardProblem(NamedTuple):
    """Why a part of the source cannot be made safe, and where it starts."""

    line: int
    column: int  # 1-based
    message: str


def url_checked(value):
    """The rendered value of a URL attribute, or `about:blank` if its scheme is unsafe."""
    if str(value).startswith(("https://", "http://")):
        return value  # most links: settled at once
    return _checked(value, _unsafe_url)


def url_list_checked(value):
    """The rendered value of a list of URLs (`srcset`), or `about:blank` if one is unsafe."""
    return _checked(value, _unsafe_list)


def unquoted_checked(value) -> Markup:
    """A printed value that cannot end the unquoted attribute value it is printed in."""
    # Character references are decoded inside attribute values, so the value reads the same.
    encoded = _UNQUOTED_UNSAFE.sub(lambda m: f"&#{ord(m.group())};", str(escape(value)))
    return Markup(encoded)  # noqa: S704 -- escaped above, then only references were added


def guard_source(source: str, environment: Environment) -> str:
    """The HTML template source with every printed value that needs it wrapped in a checking
    filter (registered on `environment`); the source itself when there is none.

    Raises TemplateSyntaxError for the first of `guard_problems`.
    """
    guard = _read(source, environment)
    if guard.problems:
        first = guard.problems[0]
        raise TemplateSyntaxError(first.message, first.line)
    if not guard.changed:
        return source
    environment.filters[URL_FILTER] = url_checked
    environment.filters[URL_LIST_FILTER] = url_list_checked
    environment.filters[UNQUOTED_FILTER] = unquoted_checked
    return "".join(guard.pieces)


def guard_problems(source: str, environment: Environment) -> list[GuardProblem]:
    """What `guard_source` refuses in a source that parses: values printed where an attribute
    name may start, and values or tags that open and close in different branches."""
    return _read(source, environment).problems


def _read(source: str, environment: Environment) -> _Guard:
    locator = _Locator(source)
    parts = list(_parts(environment.lex(source), locator))
    guard = _Guard(environment, _names_in_statements(parts), locator)
    for offset, part in parts:
        if isinstance(part, str):
            guard.data(part, offset)
        else:
            guard.construct(part, offset)
    guard.close_value()
    return guard


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

    @property
    def prints(self) -> bool:
        """Whether it may print a value: `{{ … }}`, or a macro's body through `{% call %}`."""
        return self.kind == "variable" or (self.kind == "block" and self.names[:1] == ["call"])


class _Value:
    """An attribute value being read: what it prints, and for a URL what it holds before its
    scheme is settled."""

    def __init__(self, attribute: str, quote: str, start: int, offset: int):
        self.attribute = attribute
        self.quote = quote  # "" for an unquoted value
        self.start = start  # index in the output pieces where the value begins
        self.offset = offset  # where it begins in the source
        self.prefix = ""  # literal text before the first construct
        self.constructs = 0
        self.untrusted = False
        self.prints = False  # prints a value that is not one of the product's links
        self.statements = False  # holds a `{% … %}`, which may open or close a branch

    @property
    def url(self) -> bool:
        return self.attribute in URL_ATTRIBUTES or self.attribute in URL_LIST_ATTRIBUTES

    def literal(self, text: str) -> None:
        if not self.constructs:
            self.prefix += text

    def construct(self, part: _Construct, *, trusted: bool) -> None:
        if part.kind == "comment":
            return
        self.constructs += 1
        self.untrusted = self.untrusted or not trusted
        self.prints = self.prints or (part.prints and not trusted)
        self.statements = self.statements or part.kind == "block"

    def needs_url_guard(self) -> bool:
        if not self.url or not self.untrusted:
            return False
        if self.attribute in URL_LIST_ATTRIBUTES:
            return True
        prefix = _IGNORED.sub("", html.unescape(self.prefix)).lstrip(_EDGES)
        if not prefix or _SCHEME_SO_FAR.fullmatch(prefix):
            return True  # a value printed here can still write the scheme
        scheme = _SCHEME.match(prefix)
        return scheme is not None and scheme.group(1).lower() in UNSAFE_SCHEMES


class _Guard:
    """One reading of a source: the pieces of the guarded source and what cannot be guarded."""

    def __init__(self, environment: Environment, assigned: set[str], locator: _Locator):
        self.environment = environment
        self.assigned = assigned
        self.locator = locator
        self.scanner = _Scanner()
        self.pieces: list[str] = []
        self.problems: list[GuardProblem] = []
        self.changed = False
        self.value: _Value | None = None
        # Statements right after `attr=` (`href={% if … %}`): an unquoted value that follows
        # them starts before them, a quoted one at its quote.
        self.pending: tuple[int, int] | None = None  # (piece index, source offset)
        # Per open `{% if %}` or `{% for %}`: whether it opened inside a tag. A branch that
        # ends elsewhere leaves the reading unsure of the next printed value until a `>`.
        self.branches: list[bool] = []
        self.unsure = False

    def data(self, text: str, offset: int) -> None:
        start = 0
        for position, event, attribute in self.scanner.feed(text):
            self._literal(text[start:position])
            start = position
            if event == "end":
                self.close_value()
            elif self.scanner.quote or self.pending is None:
                self._open_value(attribute, len(self.pieces), offset + position)
            else:
                self._open_value(attribute, *self.pending)
            self.pending = None
        self._literal(text[start:])
        if self.scanner.state != "before_value":
            self.pending = None
        if self.unsure and ">" in text and self.scanner.state == "text":
            self.unsure = False

    def construct(self, part: _Construct, offset: int) -> None:
        scanner, source = self.scanner, part.source
        if scanner.state == "before_value" and part.kind != "comment":
            if part.kind == "block" and not part.prints:
                self.pending = self.pending or (len(self.pieces), offset)
            else:  # `href={{ … }}`: an unquoted value starts here, or at the statements before
                start = self.pending or (len(self.pieces), offset)
                self.pending = None
                self._open_value(scanner.start_unquoted_value(), *start)
        if part.kind == "block" and part.names:
            self._branch(part.names[0])
        if part.prints and self.unsure and not self._marked_safe(part):
            self.unsure = False  # one report for the tag
            self._refuse(offset, BRANCH_TAG_MESSAGE)
        elif part.prints and scanner.state in _NAME_STATES and not self._marked_safe(part):
            after_lt = scanner.state == "after_lt"
            self._refuse(offset, AFTER_LT_MESSAGE if after_lt else IN_TAG_MESSAGE)
        elif part.prints and scanner.state == "value" and not scanner.quote:
            if part.kind != "variable":
                self._refuse(offset, IN_TAG_MESSAGE)  # a `{% call %}` body cannot be wrapped
            elif not self._trusted(part):
                start, end = self.environment.block_start_string, self.environment.block_end_string
                source = f"{start} filter {UNQUOTED_FILTER} {end}{source}{start} endfilter {end}"
                self.changed = True
        if self.value is not None and scanner.state == "value":
            self.value.construct(part, trusted=self._trusted(part))
        self.pieces.append(source)

    def close_value(self) -> None:
        value, self.value = self.value, None
        if value is None:
            return
        checks_url = value.needs_url_guard()
        # Read straight through, a value whose quote opens in one branch and closes in another
        # would be taken for one value, while some branch prints outside it. (What an unquoted
        # value prints is encoded wherever it lands.)
        if not checks_url and not (value.quote and value.prints and value.statements):
            return
        inner = "".join(self.pieces[value.start :])
        try:
            self.environment.parse(inner)
        except TemplateSyntaxError:
            why = "the address can be checked" if checks_url else "what it prints stays inside it"
            self._refuse(
                value.offset,
                f"the {value.attribute}= value must open and close in the same branch of an "
                f"{{% if %}} or {{% for %}}, so that {why}",
            )
            return
        if not checks_url:
            return
        name = URL_LIST_FILTER if value.attribute in URL_LIST_ATTRIBUTES else URL_FILTER
        start, end = self.environment.block_start_string, self.environment.block_end_string
        self.pieces.insert(value.start, f"{start} filter {name} {end}")
        self.pieces.append(f"{start} endfilter {end}")
        self.changed = True

    def _branch(self, keyword: str) -> None:
        in_tag = self.scanner.state not in _OUTSIDE_TAGS
        if keyword in {"if", "for"}:
            self.branches.append(in_tag)
        elif keyword in {"elif", "else", "endif", "endfor"} and self.branches:
            self.unsure = self.unsure or in_tag != self.branches[-1]
            if keyword.startswith("end"):
                self.branches.pop()

    def _open_value(self, attribute: str, start: int, offset: int) -> None:
        self.value = _Value(attribute, self.scanner.quote, start, offset)

    def _literal(self, text: str) -> None:
        self.pieces.append(text)
        if self.value is not None:
            self.value.literal(text)

    def _refuse(self, offset: int, message: str) -> None:
        self.problems.append(GuardProblem(*self.locator.where(offset), message))

    def _trusted(self, part: _Construct) -> bool:
        """Whether a construct prints only one of the product's own links."""
        if part.kind != "variable" or len(part.names) != 1 or part.names[0] not in TRUSTED_NAMES:
            return False
        inner = part.source.strip("{}-+ \t\r\n")
        return inner == part.names[0] and part.names[0] not in self.assigned

    def _marked_safe(self, part: _Construct) -> bool:
        """Whether the author printed this value with `|safe`, as markup to keep as it is."""
        # Allowed where attributes start: `|safe` is the author's own choice to turn
        # escaping off, and `{{ x|safe }}` in text can already add any markup, so refusing
        # `<td {{ x|safe }}>` would protect nothing and only take the choice away.
        if part.kind != "variable":
            return False
        try:
            body = self.environment.parse(part.source).body
        except TemplateSyntaxError:
            return False
        printed = body[0].nodes if len(body) == 1 and isinstance(body[0], nodes.Output) else []
        return (
            len(printed) == 1 and isinstance(printed[0], nodes.Filter) and printed[0].name == "safe"
        )


class _Locator:
    """Lines and columns of the lexer's tokens in the source (which it reads with LF line ends)."""

    def __init__(self, source: str):
        self.text = _NEWLINE.sub("\n", source)
        self.cursor = 0

    def next(self, value: str) -> int:
        """Where the next token starts: the lexer drops only whitespace that `-` strips."""
        found = self.text.find(value, self.cursor)
        at = found if found >= 0 else self.cursor
        self.cursor = at + len(value)
        return at

    def where(self, offset: int) -> tuple[int, int]:
        line_start = self.text.rfind("\n", 0, offset) + 1
        return self.text.count("\n", 0, offset) + 1, offset - line_start + 1


def _parts(
    tokens: Iterator[tuple[int, str, str]], locator: _Locator
) -> Iterator[tuple[int, str | _Construct]]:
    """The source as data and constructs, in order, each with where it starts."""
    current: list[str] = []
    names: list[str] = []
    kind = None
    start = 0
    for _line, lexeme, text in tokens:
        offset = locator.next(text)
        if kind is None:
            if lexeme == "data":
                yield offset, text
                continue
            kind = lexeme.removesuffix("_begin")
            current, names, start = [], [], offset
        current.append(text)
        if lexeme == "name":
            names.append(text)
        if lexeme == f"{kind}_end":
            yield start, _Construct("".join(current), kind, names)
            kind = None
        elif kind == "raw" and lexeme == "data":
            names.append("")  # raw text: never a trusted name


def _names_in_statements(parts: list[tuple[int, str | _Construct]]) -> set[str]:
    """Every name a `{% … %}` mentions: a trusted name assigned there is not trusted."""
    return {
        name
        for _, part in parts
        if isinstance(part, _Construct) and part.kind == "block"
        for name in part.names
    }


class _Scanner:
    """Just enough of HTML's tokenizer to know which attribute value a position is in."""

    def __init__(self):
        # text | after_lt | tag | after_name | before_value | value | comment | rawtext
        self.state = "text"
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
            elif state == "after_lt":
                i = self._after_lt(data, i)
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
        if data[start:] in {"<", "</"}:  # what follows decides whether a tag starts
            self.state, self.closing = "after_lt", data[start:] == "</"
            return len(data)
        match = _TAG_OPEN.match(data, start)
        if match is None:
            return start + 1
        self.state, self.closing, self.tag = "tag", bool(match.group(1)), match.group(2).lower()
        return match.end()

    def _after_lt(self, data: str, i: int) -> int:
        """After a `<` or `</` that ended the data before a statement (`<{% if … %}b…`)."""
        if data[i] == "/" and not self.closing:
            self.closing = True
            return i + 1
        match = _TAG_NAME.match(data, i)
        if match is None:
            self.state = "text"  # `<` followed by anything else is a character
            return i
        self.state, self.tag = "tag", match.group().lower()
        return match.end()
