"""Every render has a budget: steps, wall time, written text and the size of values it makes.

Each attack here would hang a worker, or allocate far past the limit, without the budget.
The amplifications are chosen just past the 2 MB limit (and within the 100,000 characters the
sandbox let one `*` repeat before), so that on code without the checks they simply succeed and
the test fails, instead of exhausting the machine; only the issue's own join bomb is 300 MB.
"""

import pytest

from campaigns.render_budget import Limit, RenderLimits
from campaigns.templating import (
    Content,
    Part,
    TemplateContact,
    TemplateRenderError,
    compile_content,
    render,
)

CONTACT = TemplateContact("li.lei@example.com", "Li Lei", {"city": "Shanghai"})
NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
# The steps run out long before an hour on any machine: no test races the clock.
STEPS_ONLY = RenderLimits(time_limit=3600.0)


def render_html(source: str, limits: RenderLimits = RenderLimits(), **parts) -> str:
    content = Content(subject=parts.get("subject", "s"), html=source, text=parts.get("text", ""))
    return render(compile_content(content, campaign_name="c", limits=limits), CONTACT).html


def test_two_nested_range_loops_stop_at_the_render_budget():
    with pytest.raises(TemplateRenderError) as raised:
        render_html("<p>Hi</p>\n" + NESTED_LOOPS, STEPS_ONLY)
    error = raised.value
    assert (error.part, error.limit, error.line) == (Part.HTML, Limit.STEPS, 2)
    assert str(error) == "html: the template ran past its budget of 100,000 steps (line 2)"


def test_a_loop_that_would_run_for_hours_stops_at_the_time_limit():
    # 10**10 iterations take hours on any machine; the steps allowed would never run out.
    limits = RenderLimits(max_steps=10**12, time_limit=0.5)
    with pytest.raises(TemplateRenderError) as raised:
        render_html("\n\n" + NESTED_LOOPS, limits)
    assert (raised.value.limit, raised.value.line) == (Limit.TIME, 3)
    assert "time limit of 0.5 s" in str(raised.value)


@pytest.mark.parametrize(
    "source",
    [
        # Each one counts its steps somewhere else than a plain `for`.
        "{% for i in range(1000) %}{% block b scoped %}"
        "{% for j in range(1000) %}{% endfor %}{% endblock %}{% endfor %}",
        "{% for i in range(1000) recursive %}{% if loop.depth < 3 %}{{ loop(range(1000)) }}"
        "{% endif %}{% endfor %}",
        "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}"
        "{{ m(18) }}",
        "{% for i in range(100000) %}{{ 'x'|center(1) }}{% endfor %}{{ 1 + 1 }}",
    ],
)
def test_scoped_blocks_recursive_loops_and_macros_spend_the_same_budget(source):
    with pytest.raises(TemplateRenderError, match="budget of 100,000 steps"):
        render_html(source, STEPS_ONLY)


def test_the_subject_html_and_text_share_one_budget():
    loop = "{% for i in range(40000) %}{% endfor %}"
    with pytest.raises(TemplateRenderError, match="budget") as raised:
        render_html(loop, STEPS_ONLY, subject=loop, text=loop)
    assert raised.value.part == Part.TEXT


def test_the_output_stops_growing_at_the_output_limit():
    with pytest.raises(TemplateRenderError) as raised:
        render_html("{% for i in range(3000) %}{{ 'x' * 1000 }}{% endfor %}")
    assert raised.value.limit == Limit.OUTPUT
    assert "wrote more than the limit of 2,097,152 characters" in str(raised.value)


@pytest.mark.parametrize(
    "source",
    [
        "{% macro m() %}{% for i in range(3000) %}{{ 'x' * 1000 }}{% endfor %}{% endmacro %}"
        "{% if m() %}{% endif %}",
        "{% set x %}{% for i in range(3000) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}",
        "{% filter upper %}{% for i in range(3000) %}{{ 'x' * 1000 }}{% endfor %}{% endfilter %}",
    ],
)
def test_text_a_macro_or_block_builds_without_writing_it_is_capped_too(source):
    with pytest.raises(TemplateRenderError, match="wrote more than the limit"):
        render_html(source)


def test_the_output_limit_counts_utf8_bytes_of_the_finished_part():
    limits = RenderLimits(max_output=1000)
    assert render_html("{{ '中' * 333 }}", limits) == "中" * 333  # 999 bytes
    with pytest.raises(TemplateRenderError, match="larger than the limit of 1,000 bytes"):
        render_html("{{ '中' * 334 }}", limits)


def test_the_join_memory_bomb_of_the_issue_is_refused_before_it_allocates():
    with pytest.raises(TemplateRenderError, match="longer than the limit of 2,097,152"):
        render_html("{{ (['x' * 100000] * 3000)|join }}")


# A value past the limit, each through another amplifying operation.
@pytest.mark.parametrize(
    "source",
    [
        "{{ range(100000)|join('x' * 30) }}",
        "{{ ('x' * 30).join(range(100000)|map('string')) }}",
        "{{ ('x' * 100000)|replace('x', 'y' * 30) }}",
        "{{ ('x' * 100000).replace('x', 'y' * 30) }}",
        "{{ 'x'|center(3000000) }}",
        "{{ 'x'.center(3000000) }}",
        "{{ 'x'.ljust(3000000) }}",
        "{{ 'x'.rjust(3000000) }}",
        "{{ 'x'.zfill(3000000) }}",
        "{{ ('\t' * 100000).expandtabs(30) }}",
        "{{ ('x' * 100000).translate({120: 'y' * 30}) }}",
        "{{ ('a\n' * 50000)|indent(60) }}",
        "{{ ('a ' * 50000)|wordwrap(1, wrapstring='y' * 60) }}",
        "{{ '%3000000s'|format(1) }}",
        "{{ '%3000000s' % 1 }}",
        "{{ '%*s' % (3000000, 1) }}",
        "{{ '{:>3000000}'.format(1) }}",
        "{{ '{:>{}}'.format(1, 3000000) }}",
        "{% set a = (['x' * 100000] * 10)|join %}{{ a ~ a ~ a }}",
        "{% set a = (['x' * 100000] * 10)|join %}{{ a + a + a }}",
        "{% set a = ['x' * 100000] * 10 %}{% set b = [a, a, a] %}{{ b|length }}",
        "{% set a = ['x' * 100000] * 10 %}{% set b = {'a': a, 'b': a, 'c': a} %}{{ b|length }}",
        "{% set a = ['x' * 100000] * 10 %}{{ (a, a, a)|length }}",
        "{{ [1]|batch(3000000, 'x')|list|length }}",
        "{{ range(10)|slice(3000000)|list|length }}",
        "{{ {}.fromkeys(range(100), 'x' * 30000)|length }}",
    ],
)
def test_amplifying_filters_methods_and_operators_stop_at_the_size_limit(source):
    with pytest.raises(TemplateRenderError, match="longer than the limit of 2,097,152"):
        render_html(source)


def test_values_within_the_limit_still_render():
    assert render_html("{{ 'ab'|center(6) }}|{{ 'x'.zfill(3) }}|{{ '%3s' % 1 }}") == (
        "  ab  |00x|  1"
    )
    assert len(render_html("{{ range(1000)|join(',') }}")) == 3889
    assert (
        render_html("{{ [1, 2] + [3] }}{{ 'a' ~ 1 }}{{ '{:>4}'.format('b') }}") == "[1, 2, 3]a1   b"
    )
