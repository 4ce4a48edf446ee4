"""measure_rows() draws a page of a kind's values as the Jinja loop it replaced did (docs/
performance.md, 54): contexts, sources, the correction link, the deletion panel, the link to
older values, values that need escaping, in both languages."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask_babel import force_locale

from blueprints.measures import kinds
from blueprints.measures.rows import measure_rows

# measures/_rows.html and shared/measures.html's value() before measure_rows(), as the reference.
JINJA_ROWS = """{%- import "components/ui.html" as ui -%}
{%- macro value(row, source) %}
<div class="list-main">
  <span class="list-title">{{ row.value }}</span>
  {%- if row.context %}<span class="profile-badge">{{ ui.badge(row.context) }}</span>{% endif %}
  <span class="list-meta">{{ row.when_text }} · {{ source }}</span>
</div>
{%- endmacro %}
{%- set ask, delete_label = _("Delete this measure?"), _("Delete") %}
{%- for row in values.rows %}
{%- set delete_url = url_for("measures.delete", slug=kind.slug, measure_id=row.id) %}
<li id="measure-{{ row.id }}">
  <div class="list-row">
    {{- value(row, row.source) }}
    <div class="list-aside">
      <a class="btn btn-ghost btn-compact" href="{{ url_for('measures.edit', slug=kind.slug, measure_id=row.id) }}">
        {{- ui.icon("pencil", _("Correct the measure of %(when)s", when=row.when_text)) }}</a>
      <button type="button" class="btn btn-ghost btn-compact" popovertarget="delete-{{ row.id }}">
        {{- ui.icon("trash-2", _("Delete the measure of %(when)s", when=row.when_text)) }}</button>
    </div>
  </div>
  {% call ui.confirm("delete-" ~ row.id, ask, delete_url, delete_label, hx_post=delete_url) %}
  <p>{{ _("%(value)s, %(when)s. It will disappear from your charts.", value=row.value, when=row.when_text) }}</p>
  {% endcall %}
</li>
{%- endfor %}
{%- if values.next %}
<li class="doc-more" id="measure-more">
  <a class="btn btn-secondary" href="{{ url_for('measures.kind', slug=kind.slug, avant=values.next) }}"
     hx-get="{{ url_for('measures.kind', slug=kind.slug, avant=values.next) }}" hx-target="#measure-more" hx-swap="outerHTML">{{ _("Show older values") }}</a>
</li>
{%- endif %}"""

ODD = '<b>O\'Brien & "Fils"</b>'


def values(next_cursor: str | None) -> dict:
    row = {"id": "m-1", "value": "5,4\u00a0mmol/L", "context": "", "when_text": "today at 8:05", "source": "Entered"}
    return {
        "rows": [
            row,
            {**row, "id": "m-2", "context": "Before a meal", "source": f"Device · {ODD}"},
            {**row, "id": "m-3", "value": ODD, "when_text": f"12 March 2026 at 7:00 ({ODD})"},
        ],
        "next": next_cursor,
    }


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("next_cursor", [None, "1767225600.m-3"])
def test_rows_are_what_the_jinja_loop_drew(app, language, next_cursor):
    kind, page = kinds.get("glucose"), values(next_cursor)
    with app.test_request_context("/constantes/glycemie"), force_locale(language):
        expected = render_template_string(JINJA_ROWS, values=page, kind=kind)
        drawn = measure_rows(page, kind)
    assert "&lt;b&gt;O&#39;Brien &amp; &#34;Fils&#34;&lt;/b&gt;" in drawn
    assert ("avant=1767225600.m-3" in drawn) == bool(next_cursor) and drawn.count("<li id=") == 3
    assert re.sub(r"\s+", " ", drawn) == re.sub(r"\s+", " ", expected)
