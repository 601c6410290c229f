"""Templates cannot escape the sandbox: every attempt renders an error, never a result."""

import pytest

from campaigns.templating import (
    Content,
    InvalidContentError,
    TemplateContact,
    TemplateRenderError,
    compile_content,
    render,
)

CONTACT = TemplateContact("li.lei@example.com", "Li Lei", {"city": "Shanghai", "evil": "__class__"})


def render_html(source: str) -> str:
    compiled = compile_content(Content(subject="s", html=source), campaign_name="c")
    return render(compiled, CONTACT).html


# Escapes written plainly are refused when the template is saved…
@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ self.__dict__ }}",
        "{{ contact.__class__ }}",
        "{{ contact.attributes['__class__'] }}",
        "{% include 'secrets.html' %}",
        "{% extends 'base.html' %}",
    ],
)
def test_written_escape_is_refused_when_compiling(source):
    with pytest.raises(InvalidContentError):
        compile_content(Content(subject="s", html=source), campaign_name="c")


# …and those built at run time fail when rendering.
@pytest.mark.parametrize(
    "source",
    [
        "{{ ''|attr('__class__') }}",
        "{{ ''|attr('__cla' ~ 'ss__') }}",
        "{% if ''|attr('__class__') %}yes{% endif %}",
        "{{ '{0.__class__.__mro__}'.format('') }}",
        "{{ ('{0.' ~ '__class__}').format(1) }}",
        "{{ '{0.__globals__}'.format(cycler.reset) }}",
        "{{ contact|attr('__init__') }}",
        "{{ contact.attributes[contact.attributes.evil] }}",
        "{{ ''[contact.attributes.evil] }}",
        "{{ [1]|map(attribute='__class__')|list }}",
    ],
)
def test_runtime_escape_renders_an_error(source):
    with pytest.raises(TemplateRenderError, match="SecurityError"):
        render_html(source)


@pytest.mark.parametrize(
    "source",
    [
        "{{ range(10**10)|list|length }}",
        "{% for i in range(10**10) %}x{% endfor %}",
        "{{ 10 ** 100000 }}",
        "{{ 'x' * 10**9 }}",
        "{{ [1] * 10**9 }}",
    ],
)
def test_resource_exhaustion_renders_an_error(source):
    with pytest.raises(TemplateRenderError):
        render_html(source)


@pytest.mark.parametrize(
    "source",
    [
        "{% set items = [] %}{{ items.append(1) }}",
        "{{ dict(a=1).update(b=2) }}",
    ],
)
def test_mutating_values_renders_an_error(source):
    with pytest.raises(TemplateRenderError, match="SecurityError"):
        render_html(source)


def test_lipsum_generator_is_not_available():
    with pytest.raises(TemplateRenderError, match="lipsum"):
        render_html("{{ lipsum(1000000) }}")


def test_template_error_is_reported_not_raised_raw():
    with pytest.raises(TemplateRenderError, match="ZeroDivisionError"):
        render_html("{{ 1 / 0 }}")


def test_recursive_macro_renders_an_error():
    with pytest.raises(TemplateRenderError):
        render_html("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")


def test_ordinary_arithmetic_and_loops_still_work():
    assert render_html(
        "{{ 2 ** 10 }} {{ 'ab' * 2 }} {% for i in range(3) %}{{ i }}{% endfor %}"
    ) == ("1024 abab 012")
