"""How deeply a template source nests, read from its tokens before it is parsed.

Jinja's parser and code generator recurse once per level of nesting, and the Python code they
generate has limits of its own (100 levels of indentation, 200 nested parentheses), so 5,000
`(` or 3,000 nested `{% if %}` end in RecursionError or SyntaxError. The lexer does not
recurse: counting with it refuses such a source with a line number instead. 32 levels of
blocks and brackets together is far more than any message needs and stays well inside
Python's limits from any call stack.
"""

from __future__ import annotations

from jinja2 import Environment, TemplateSyntaxError

MAX_NESTING = 32

# Tags that open a block closed by an `end…` tag (`set` only without `=`: `{% set x %}`).
_OPENING_TAGS = frozenset(
    {"if", "for", "macro", "call", "filter", "with", "block", "autoescape", "set"}
)
_OPENING_BRACKETS = frozenset("([{")
_CLOSING_BRACKETS = frozenset(")]}")


def too_deep(environment: Environment, source: str) -> int | None:
    """The line where `source` first nests deeper than MAX_NESTING, or None.

    A source the lexer refuses is left to the parser, which reports it with its line.
    """
    depth = 0
    tag: str | None = ""  # None: the next name is a block tag's; "": no tag is being opened
    assigns = False  # the `set` being read has an `=`
    try:
        for line, kind, value in environment.lex(source):
            if kind == "block_begin":
                tag, assigns = None, False
            elif kind == "name" and tag is None:
                tag = value
                if value.startswith("end"):
                    depth -= 1
                elif value in _OPENING_TAGS and value != "set":
                    depth += 1
            elif kind == "operator":
                if value in _OPENING_BRACKETS:
                    depth += 1
                elif value in _CLOSING_BRACKETS:
                    depth -= 1
                elif value == "=":
                    assigns = True
            elif kind == "block_end":
                if tag == "set" and not assigns:
                    depth += 1
                tag = ""
            if depth > MAX_NESTING:
                return line
    except TemplateSyntaxError:
        return None
    return None
