"""The Jinja2 sandbox that campaign templates run in, and the values they see.

Templates are written by users, so they run in Jinja's immutable sandbox: no attribute that
starts with an underscore, no mutation of lists or dicts, no unsafe callables. On top of it:

- reaching for an unsafe attribute raises at once (Jinja's default is an undefined value that
  only raises when printed, so `{% if ''.__class__ %}` would still run);
- every render has a budget (campaigns/render_budget.py): each loop iteration, call, filter
  and intercepted operator (`**`, `*`, `+`, `%`) is a step, the steps and the wall time are
  limited, and so is the text written, as it is written (a macro's and a `{% set %}` block's
  too). The generated code is changed for that: loops iterate through the budget, `~` and
  list, tuple and dict literals check their size, and `concat`, which every written text goes
  through, stops at the limit;
- values that could grow past the output limit are checked, before they are made when their
  size is known in advance (campaigns/value_sizes.py): `10**10**10`, `'x' * 10**9`,
  `x|center(10**9)`, `(['x'*100000]*3000)|join`, `'%999999999s' % x` (`range()` is already
  capped by the sandbox);
- a missing variable or attribute renders empty (`contact.attributes.city` on a contact
  without a city) and `default()` replaces it; `None` renders empty too.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import ChainableUndefined, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import _PassArg

from campaigns import value_sizes
from campaigns.render_budget import DEFAULT_LIMITS, Budget, RenderLimits, joined, too_large

# The largest integer (in bits) one operator may produce.
MAX_INT_BITS = 4096


class Attributes:
    """A contact's custom attributes, read as `contact.attributes.<key>` or `[...]`.

    Neither a dict nor a Mapping on purpose: those would answer `contact.attributes.items`
    with their own method instead of the contact's attribute named "items".
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None):
        self._values = dict(values or {})

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __repr__(self) -> str:
        return repr(self._values)


@dataclass(frozen=True, slots=True)
class TemplateContact:
    """What a template sees as `contact`."""

    email: str
    name: str = ""
    attributes: Attributes = field(default_factory=Attributes)

    def __post_init__(self):
        if not isinstance(self.attributes, Attributes):
            object.__setattr__(self, "attributes", Attributes(self.attributes))


@dataclass(frozen=True, slots=True)
class TemplateCampaign:
    """What a template sees as `campaign`."""

    name: str


# Names a template may use, each with the fields it has (None: a plain value).
VARIABLES: dict[str, frozenset[str] | None] = {
    "contact": frozenset({"email", "name", "attributes"}),
    "campaign": frozenset({"name"}),
    "unsubscribe_url": None,
    "view_online_url": None,
    "today": None,
}
_VIEW_TYPES = (TemplateContact, TemplateCampaign, Attributes)
_FIELDS = {TemplateContact: VARIABLES["contact"], TemplateCampaign: VARIABLES["campaign"]}
_MISSING = object()


class _Undefined(ChainableUndefined):
    """Missing values render empty, however deep the chain (`a.b.c`)."""

    __slots__ = ()


def _finalize(value: Any) -> Any:
    return "" if value is None else value


def format_date(value: Any, format: str = "%Y-%m-%d") -> str:
    """Format a date, a datetime or an ISO 8601 string with strftime codes; other values as is."""
    if value is None or isinstance(value, _Undefined) or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value  # imported data is messy: show it rather than fail the message
    if isinstance(value, dt.date):
        return value.strftime(format)
    return str(value)


class _BudgetedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with loops counted and `~` and literals checked (see the module
    docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._counted: set[int] = set()  # ids of the iterables of loops, still to be written

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # Jinja allows no new node types, so the iterable is marked and wrapped where written.
        self._counted.add(id(node.iter))
        super().visit_For(node, frame)

    def visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        if id(node) not in self._counted:
            return super().visit(node, *args, **kwargs)
        self._counted.discard(id(node))
        self.write("context.budget.counted(")
        super().visit(node, *args, **kwargs)
        self.write(")")
        return None

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # Jinja's, with the pieces checked together before they are turned into text.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"{join}(environment.concat_pieces((")
        for piece in node.nodes:
            self.visit(piece, frame)
            self.write(", ")
        self.write(")))")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._checked(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._checked(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # `{% for a, b in … %}` assigns to it
            super().visit_Tuple(node, frame)
        else:
            self._checked(super().visit_Tuple, node, frame)

    def _checked(self, visit: Callable[..., None], node: nodes.Node, frame: Frame) -> None:
        # A literal of references is as large as what they point to: `[a, a, a, a]`, nested.
        self.write("environment.checked(")
        visit(node, frame)
        self.write(")")


class _BudgetedContext(Context):
    """A render's context, which carries its budget (replaced by one shared by every part)."""

    def __init__(self, environment: CampaignSandbox, *args: Any, **kwargs: Any):
        super().__init__(environment, *args, **kwargs)
        self.budget = Budget(environment.limits)

    def derived(self, locals: dict[str, Any] | None = None) -> Context:
        # Scoped blocks render in a derived context: it must not get a fresh budget.
        context = super().derived(locals)
        context.budget = self.budget
        return context


# Filters met per recipient whose result is at most a few times as long as their input (and
# takes time in proportion): left unwrapped, as a wrapper would cost a quarter of a typical
# render. Their results are still counted where they are written or combined.
_LINEAR_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "date",
        "default",
        "e",
        "escape",
        "filesizeformat",
        "first",
        "float",
        "forceescape",
        "int",
        "last",
        "length",
        "lower",
        "round",
        "safe",
        "string",
        "striptags",
        "title",
        "trim",
        "upper",
        "urlencode",
        "wordcount",
    }
)


class CampaignSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, strict about escapes and resources, lenient about missing
    values."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})
    code_generator_class = _BudgetedCodeGenerator
    context_class = _BudgetedContext

    def __init__(self, *, autoescape: bool, limits: RenderLimits):
        super().__init__(
            autoescape=autoescape,
            undefined=_Undefined,
            finalize=_finalize,
            auto_reload=False,
        )
        self.limits = limits
        # Every text a template writes (its output, macros, blocks) is joined by `concat`.
        self.concat = functools.partial(joined, limit=limits.max_output)
        # lipsum(10**6) builds megabytes of text; the other default globals are harmless.
        self.globals.pop("lipsum", None)
        self.filters["date"] = format_date
        self.filters = {
            name: function if name in _LINEAR_FILTERS else self._budgeted_filter(name, function)
            for name, function in self.filters.items()
        }

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The fast path for `contact.name` and `contact.attributes.city`, met many times per
        # message; everything else takes the sandbox's full checks.
        kind = type(obj)
        if kind is Attributes and not attribute.startswith("_"):
            value = obj._values.get(attribute, _MISSING)
            if value is not _MISSING:
                return value
        elif kind in _FIELDS and attribute in _FIELDS[kind]:
            return getattr(obj, attribute)
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # Our own value types hold plain data only; skipping the generic checks makes each
        # `contact.name` several times cheaper, which matters per recipient.
        if type(obj) in _VIEW_TYPES:
            return not attr.startswith("_")
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        context.budget.tick()
        limit = self.limits.max_output
        if isinstance(left, int) and isinstance(right, int):
            if operator_ in {"*", "**"}:
                bits = left.bit_length() * right if operator_ == "**" else 0
                bits = max(bits, left.bit_length() + right.bit_length())
                if bits > MAX_INT_BITS:
                    raise SecurityError("the number would be too large")
        elif operator_ == "*":
            value_sizes.repeat_check(left, right, limit)
            value_sizes.repeat_check(right, left, limit)
        elif operator_ == "+":
            value_sizes.sum_check(left, right, limit)
        elif operator_ == "%":
            value_sizes.percent_check(left, right, limit)
        return value_sizes.check_text(self.binop_table[operator_](left, right), limit)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # Jinja's own double-underscore names: a template may pass keywords called "self".
        __context.budget.tick()
        limit = __self.limits.max_output
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str | bytes):
            name = __obj.__name__
            if name == "join" and args:
                args = (list(args[0]), *args[1:])
                value_sizes.join_check(args[0], owner, limit)
            elif name in value_sizes.METHOD_CHECKS:
                value_sizes.METHOD_CHECKS[name](limit, owner, *args, **kwargs)
        elif isinstance(__obj, LoopContext) and args:
            # `loop(children)` of a recursive loop iterates outside the `for` it came from.
            args = (__context.budget.counted(args[0]), *args[1:])
        result = super().call(__context, __obj, *args, **kwargs)
        return value_sizes.check_text(result, limit)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        template, limit = value.__self__, self.limits.max_output
        is_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            if is_map:
                mapping = args[0] if args and isinstance(args[0], Mapping) else {}
                value_sizes.format_check(template, (), mapping, limit)
            else:
                value_sizes.format_check(template, args, kwargs, limit)
            return value_sizes.check_text(formatter(*args, **kwargs), limit)

        return checked

    def checked(self, value: Any) -> Any:
        """A value the template made, once it is known to fit the limit."""
        return value_sizes.check(value, self.limits.max_output)

    def concat_pieces(self, pieces: tuple[Any, ...]) -> tuple[Any, ...]:
        """The pieces of a `~`, once their text together is known to fit the limit."""
        limit, total = self.limits.max_output, 0
        for piece in pieces:
            total += value_sizes.size_of(piece, limit)
            if total > limit:
                raise too_large("the joined text", limit)
        return pieces

    def _budgeted_filter(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function` as a filter that costs a step, has its arguments checked before when it
        amplifies, and its result after. A context filter, so Jinja never runs it while
        compiling (constant folding would run it outside any budget)."""
        before = value_sizes.FILTER_CHECKS.get(name)
        materialize = name in {"join", "sum"}  # their input is walked by the check first
        passed = _PassArg.from_obj(function)
        limit = self.limits.max_output

        @pass_context
        @functools.wraps(function)
        def budgeted(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
            context.budget.tick()
            if materialize and not isinstance(value, str):
                value = list(value)
                if name == "join":
                    value_sizes.join_check(value, args[0] if args else "", limit)
            if before is not None:
                before(limit, value, *args, **kwargs)
            if passed is _PassArg.context:
                result = function(context, value, *args, **kwargs)
            elif passed is _PassArg.eval_context:
                result = function(context.eval_ctx, value, *args, **kwargs)
            elif passed is _PassArg.environment:
                result = function(self, value, *args, **kwargs)
            else:
                result = function(value, *args, **kwargs)
            if type(result) is str and len(result) <= limit:
                return result  # the common case, without a call
            return value_sizes.check_text(result, limit)

        return budgeted


def html_environment(limits: RenderLimits = DEFAULT_LIMITS) -> CampaignSandbox:
    """The sandbox for HTML parts: every printed value is HTML-escaped."""
    return CampaignSandbox(autoescape=True, limits=limits)


def text_environment(limits: RenderLimits = DEFAULT_LIMITS) -> CampaignSandbox:
    """The sandbox for subjects and plain-text parts: nothing is escaped."""
    return CampaignSandbox(autoescape=False, limits=limits)
