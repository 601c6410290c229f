"""Campaign content: check template sources, compile them once per campaign, render per recipient.

    validation = validate(source, Part.HTML)          # errors (nothing saved) and warnings
    compiled = compile_content(content, campaign_name="Spring sale")
    rendered = render(compiled, contact, unsubscribe_url=..., view_online_url=...)

A template sees `contact.email`, `contact.name`, `contact.attributes.<key>`, `campaign.name`,
`unsubscribe_url`, `view_online_url` and `today`; it runs in the sandbox of
`campaigns/sandbox.py`. The HTML part may be placed into a layout at its `{{ content }}`;
its CSS is inlined, and the plain-text part is read from it when left empty (`htmlprep.py`).
`render()` is what both the preview and message building call, so the preview shows what
recipients get. Each render has a budget of steps, time and output (`RenderLimits`, given when
compiling; campaigns/render_budget.py): a template that runs past it fails for that recipient
with a TemplateRenderError that says which part, which limit and which line.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from jinja2 import Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.parser import Parser

from campaigns import htmlprep, nesting
from campaigns.render_budget import (
    DEFAULT_LIMITS,
    Budget,
    Limit,
    RenderBudgetError,
    RenderLimits,
)
from campaigns.sandbox import (
    VARIABLES,
    CampaignSandbox,
    TemplateCampaign,
    TemplateContact,
    html_environment,
    text_environment,
)
from campaigns.url_guard import guard_problems, guard_source

__all__ = [
    "CompiledContent",
    "Content",
    "InvalidContentError",
    "Part",
    "Problem",
    "RenderLimits",
    "RenderedContent",
    "TemplateContact",
    "TemplateRenderError",
    "Validation",
    "compile_content",
    "render",
    "validate",
    "validate_content",
]

_CONTENT_PRINT = re.compile(r"\{\{-?\s*content\s*-?\}\}")
# A rendered subject longer than this is refused: the source's own limit (the API's and the
# form's), and RFC 5322's line length, which a subject beyond it can only reach by folding.
MAX_SUBJECT = 998
_TEMPLATE_FILE = "<template>"  # Jinja's name for code compiled from a string


class Part(enum.StrEnum):
    SUBJECT = "subject"
    HTML = "html"
    TEXT = "text"
    LAYOUT = "layout"


class Problem(NamedTuple):
    line: int
    column: int | None  # 1-based; None when Jinja does not say where on the line
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Validation:
    """What checking one template source found: errors forbid saving, warnings do not."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Content:
    """The sources of a campaign's message, as the user wrote them."""

    subject: str
    html: str
    text: str = ""  # empty: read from the rendered HTML
    layout: str = ""  # empty: no layout; otherwise HTML with one `{{ content }}`


class RenderedContent(NamedTuple):
    subject: str  # one line: whitespace runs, CR and LF collapse to one space
    html: str
    text: str


@dataclass(frozen=True)
class CompiledContent:
    """A campaign's templates, compiled once and rendered for each recipient."""

    subject: Template
    html: Template
    text: Template | None  # None: each rendered HTML is converted to text (slow)
    css_inlined: bool  # False: CSS is inlined into each rendered HTML (slow)
    limits: RenderLimits = DEFAULT_LIMITS


class InvalidContentError(ValueError):
    """Some source has errors; `problems` lists them by part."""

    def __init__(self, problems: dict[Part, list[Problem]]):
        self.problems = problems
        super().__init__(
            "; ".join(f"{part}: {problem}" for part, found in problems.items() for problem in found)
        )


class TemplateRenderError(ValueError):
    """Rendering failed for this recipient (a sandbox escape, an error in the template, its
    budget used up…); `line` is the template's line when known, `limit` the limit passed."""

    def __init__(
        self, part: Part, message: str, *, line: int | None = None, limit: Limit | None = None
    ):
        self.part, self.line, self.limit = part, line, limit
        super().__init__(f"{part}: {message}" + (f" (line {line})" if line else ""))


def validate(
    source: str, part: Part = Part.HTML, *, attribute_keys: Collection[str] | None = None
) -> Validation:
    """Check one source: syntax errors and forbidden constructs are errors, unknown names warnings.

    `attribute_keys`, when given, are the contact attributes known to exist: other
    `contact.attributes.<key>` uses are warned about.
    """
    environment = text_environment() if part in {Part.SUBJECT, Part.TEXT} else html_environment()
    deep = nesting.too_deep(environment, source)
    if deep is not None:
        return Validation(errors=[Problem(deep, None, _TOO_DEEP)])
    parser = Parser(environment, source)
    try:
        tree = parser.parse()
    except TemplateSyntaxError as exc:
        token = parser.stream.current
        column = _error_column(source, exc, token.test("eof"), str(token.value))
        return Validation(errors=[Problem(exc.lineno, column, exc.message or str(exc))])
    except RecursionError as exc:
        return Validation(errors=[Problem(1, None, _too_complex(exc))])
    try:
        environment.compile(tree)  # unknown filters and tests are found here
    except TemplateSyntaxError as exc:
        column = _error_column(source, exc, False, "")
        return Validation(errors=[Problem(exc.lineno, column, exc.message or str(exc))])
    except (RecursionError, SyntaxError) as exc:
        # Python's line numbers are of the generated code, not of the template.
        return Validation(errors=[Problem(1, None, _too_complex(exc))])
    lines = source.splitlines()
    errors = _forbidden_constructs(tree, lines)
    if part in {Part.HTML, Part.LAYOUT}:  # what compiling would refuse, shown while typing
        errors += [Problem(*found) for found in guard_problems(source, environment)]
    if part is Part.LAYOUT and len(_CONTENT_PRINT.findall(source)) != 1:
        errors.append(Problem(1, None, "a layout must print {{ content }} exactly once"))
    known = set(VARIABLES) | set(environment.globals)
    if part is Part.LAYOUT:
        known.add("content")
    warnings = [
        Problem(*_locate(lines, _first_name_line(tree, name), name), f"unknown variable {name!r}")
        for name in sorted(meta.find_undeclared_variables(tree) - known)
    ]
    warnings += _unknown_fields(tree, lines, attribute_keys)
    warnings.sort(key=lambda problem: (problem.line, problem.column or 0, problem.message))
    return Validation(errors=errors, warnings=warnings)


def validate_content(
    content: Content, *, attribute_keys: Collection[str] | None = None
) -> dict[Part, Validation]:
    """Check every source of a campaign's content, by part (empty optional parts are skipped)."""
    sources = {Part.SUBJECT: content.subject, Part.HTML: content.html}
    sources |= {Part.TEXT: content.text, Part.LAYOUT: content.layout}
    return {
        part: validate(source, part, attribute_keys=attribute_keys)
        for part, source in sources.items()
        if source or part in {Part.SUBJECT, Part.HTML}
    }


def compile_content(
    content: Content, *, campaign_name: str, limits: RenderLimits = DEFAULT_LIMITS
) -> CompiledContent:
    """Compile a campaign's content once, to be rendered within `limits`; raises
    InvalidContentError when a source has errors."""
    try:
        return _compile(content, campaign_name, limits)
    except (TemplateSyntaxError, _ForbiddenConstructError) as exc:
        # Compiling reads each source once; only a failure pays for locating every problem.
        problems = {
            part: found.errors for part, found in validate_content(content).items() if not found.ok
        }
        raise InvalidContentError(problems or {Part.HTML: [Problem(1, None, str(exc))]}) from exc


def render(
    compiled: CompiledContent,
    contact: TemplateContact,
    *,
    unsubscribe_url: str = "",
    view_online_url: str = "",
    today: dt.date | None = None,
) -> RenderedContent:
    """Render the subject, HTML and text for one recipient, within one budget; raises
    TemplateRenderError."""
    values = {
        "contact": contact,
        "unsubscribe_url": unsubscribe_url,
        "view_online_url": view_online_url,
        "today": today or dt.date.today(),
    }
    budget = Budget(compiled.limits)
    subject = " ".join(_render_part(compiled.subject, values, Part.SUBJECT, budget).split())
    if len(subject) > MAX_SUBJECT:
        raise TemplateRenderError(
            Part.SUBJECT,
            f"the subject is {len(subject):,} characters long; at most {MAX_SUBJECT} are allowed",
        )
    html = _render_part(compiled.html, values, Part.HTML, budget)
    if not compiled.css_inlined:
        try:
            html = htmlprep.inline_css(html)
        except htmlprep.CssInlineError as exc:
            raise TemplateRenderError(Part.HTML, str(exc)) from exc
    if compiled.text is not None:
        text = _render_part(compiled.text, values, Part.TEXT, budget)
    else:
        text = htmlprep.html_to_text(html)
    return RenderedContent(subject, html, text)


def _render_part(template: Template, values: Mapping[str, Any], part: Part, budget: Budget) -> str:
    context = template.new_context(values)
    context.budget = budget
    try:
        try:
            # Jinja's `render()`, with the context carrying the message's budget; `concat`
            # stops the text as it passes the limit.
            text = template.environment.concat(template.root_render_func(context))
        except Exception:
            template.environment.handle_exception()  # the traceback gets the template's lines
    except RenderBudgetError as exc:
        raise TemplateRenderError(part, str(exc), line=_line(exc), limit=exc.limit) from exc
    # A template is user code: whatever it raises (SecurityError, ZeroDivisionError,
    # RecursionError…) is the user's to fix, so it is reported, never a crash of the sender.
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"
        raise TemplateRenderError(part, message, line=_line(exc)) from exc
    limit = budget.limits.max_output
    # Characters were counted as the text grew; a character is 1 to 4 bytes of UTF-8.
    if len(text) * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit:
        message = f"the rendered {part} is larger than the limit of {limit:,} bytes"
        raise TemplateRenderError(part, message, limit=Limit.OUTPUT)
    return text


def _line(exc: BaseException) -> int | None:
    """The template line the exception was raised at (the innermost, in a macro)."""
    line, frame = None, exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = frame.tb_lineno
        frame = frame.tb_next
    return line


def _place_in_layout(body: str, layout: str, environment: CampaignSandbox) -> str:
    """One source: the layout with the body's source at its `{{ content }}`."""
    if not layout:
        return body
    # Swap the source, not the rendered body, so CSS of the layout can be inlined into the
    # body once for the campaign. The lexer cuts the layout into data and tags, so a
    # "{{ content }}" inside a string literal is left alone.
    pieces, current = [], []
    for _line, token, value in environment.lex(layout):
        current.append(value)
        if token in {"data", "variable_end", "block_end", "comment_end", "raw_end"}:
            piece = "".join(current)
            pieces.append(body if _CONTENT_PRINT.fullmatch(piece.rstrip()) else piece)
            current = []
    return "".join(pieces) + "".join(current)


class _ForbiddenConstructError(ValueError):
    pass


_TOO_DEEP = (
    f"the template nests more than {nesting.MAX_NESTING} levels deep (blocks and brackets together)"
)


def _too_complex(exc: RecursionError | SyntaxError) -> str:
    # Python's compiler refuses what Jinja generates for, e.g., 21 nested loops or a chain of
    # 200 operators; its message ("too many statically nested blocks") says which.
    detail = exc.msg if isinstance(exc, SyntaxError) else "nested too deeply"
    return f"the template is too complex to run ({detail}); split it up or nest less"


def _compile(content: Content, campaign_name: str, limits: RenderLimits) -> CompiledContent:
    html_env, text_env = html_environment(limits), text_environment(limits)
    template_globals = {"campaign": TemplateCampaign(campaign_name)}
    if content.layout and len(_CONTENT_PRINT.findall(content.layout)) != 1:
        raise _ForbiddenConstructError("a layout must print {{ content }} exactly once")
    html_source = _place_in_layout(content.html, content.layout, html_env)
    subject = _template(text_env, content.subject, template_globals)
    inlined_source = htmlprep.inline_css_in_template(html_source, html_env)
    html = _template(
        html_env, guard_source(inlined_source or html_source, html_env), template_globals
    )
    if content.text:
        text = _template(text_env, content.text, template_globals)
    else:
        text_source = htmlprep.text_template_from_html(html_source, text_env)
        text = _compile_or_none(text_env, text_source, template_globals)
    return CompiledContent(
        subject, html, text, css_inlined=inlined_source is not None, limits=limits
    )


def _template(
    environment: CampaignSandbox, source: str, template_globals: dict[str, Any]
) -> Template:
    """Parse, check and compile a source (what `from_string` does, plus our checks)."""
    if nesting.too_deep(environment, source) is not None:
        raise _ForbiddenConstructError(_TOO_DEEP)
    try:
        tree = environment.parse(source)
        if _forbidden_constructs(tree, []):
            raise _ForbiddenConstructError("the template uses a construct that is not allowed")
        code = environment.compile(tree)
    except (RecursionError, SyntaxError) as exc:
        raise _ForbiddenConstructError(_too_complex(exc)) from exc
    return environment.template_class.from_code(
        environment, code, environment.make_globals(template_globals)
    )


def _compile_or_none(
    environment: CampaignSandbox, source: str | None, template_globals: dict[str, Any]
) -> Template | None:
    if source is None:
        return None
    try:
        return _template(environment, source, template_globals)
    except (TemplateError, _ForbiddenConstructError):
        return None  # the text read from the HTML did not keep its blocks: convert per message


def _forbidden_constructs(tree: nodes.Template, lines: list[str]) -> list[Problem]:
    """Underscore attributes (sandbox escapes) and other templates (there is no loader)."""
    problems = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else _constant_key(node)
        if name and name.startswith("_"):
            problems.append(Problem(*_locate(lines, node.lineno, name), f"{name!r} is not allowed"))
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        problems.append(
            Problem(node.lineno, None, "a template cannot use other templates; use a layout")
        )
    return problems


def _unknown_fields(
    tree: nodes.Template, lines: list[str], attribute_keys: Collection[str] | None
) -> list[Problem]:
    """Warnings for `contact.nmae`, `campaign.title` and attributes no contact has."""
    warnings = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        key = node.attr if isinstance(node, nodes.Getattr) else _constant_key(node)
        if key is None or key.startswith("_"):
            continue
        owner = node.node
        if isinstance(owner, nodes.Name) and VARIABLES.get(owner.name):
            if key not in VARIABLES[owner.name]:
                message = f"{owner.name} has no field {key!r}"
                warnings.append(Problem(*_locate(lines, node.lineno, key), message))
        elif (
            attribute_keys is not None
            and isinstance(owner, nodes.Getattr)
            and owner.attr == "attributes"
            and isinstance(owner.node, nodes.Name)
            and owner.node.name == "contact"
            and key not in attribute_keys
        ):
            message = f"no contact has the attribute {key!r}: it will print empty"
            warnings.append(Problem(*_locate(lines, node.lineno, key), message))
    return warnings


def _constant_key(node: nodes.Getitem) -> str | None:
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _first_name_line(tree: nodes.Template, name: str) -> int:
    return min((node.lineno for node in tree.find_all(nodes.Name) if node.name == name), default=1)


def _locate(lines: list[str], line: int, needle: str) -> tuple[int, int | None]:
    """(line, column) of `needle` on that line, preferring its first use inside a Jinja tag."""
    if not 0 < line <= len(lines):
        return line, None
    text = lines[line - 1]
    for tag in re.finditer(r"\{[{%#].*?(?:[}%#]\}|$)", text):
        found = text.find(needle, tag.start(), tag.end())
        if found >= 0:
            return line, found + 1
    found = text.find(needle)
    return line, (found + 1 if found >= 0 else None)


# How Jinja names tokens in its messages, and how they are written.
_TOKEN_TEXT = {
    "end of print statement": "}}",
    "end of statement block": "%}",
    "begin of print statement": "{{",
    "begin of statement block": "{%",
}


def _error_column(source: str, exc: TemplateSyntaxError, at_eof: bool, token: str) -> int | None:
    """Best effort at the column of a syntax error: Jinja itself reports only the line."""
    message = exc.message or ""
    at = re.search(r"unexpected char .* at (\d+)$", message)
    if at:  # the lexer gives an offset into the source
        offset = int(at.group(1))
        return offset - (source.rfind("\n", 0, offset) + 1) + 1
    lines = source.splitlines() or [""]
    if at_eof or "end of template" in message.lower():
        return len(lines[min(exc.lineno, len(lines)) - 1]) + 1
    quoted = re.findall(r"'([^']*)'", message)
    named = re.search(r"(?:got|unexpected|unknown tag|named) '([^']*)'", message)
    needle = named.group(1) if named else (quoted[-1] if quoted else token)
    return _locate(lines, exc.lineno or 1, _TOKEN_TEXT.get(needle, needle))[1]
