"""document_rows() and pro_document_rows() draw a page of the documents list as the Jinja macros
they replaced did (docs/performance.md, 53), whitespace aside: months, thumbnails, hidden
documents, the selection box, the next page's link, values that need escaping, both languages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import render_template_string
from flask_babel import force_locale

from blueprints.documents.rows import document_rows, pro_document_rows

# The macros and call blocks of shared/documents.html, documents/_macros.html,
# documents/_rows.html and pro/_document_rows.html before the Python rows, as the reference.
JINJA_ROWS = """{%- import "components/ui.html" as ui -%}
{%- macro month_rows(docs, prev_month, listing) %}
{%- set ns = namespace(month=prev_month) %}
{%- for doc in docs.rows %}
{%- if doc.month_key != ns.month %}
{%- set ns.month = doc.month_key %}
<li class="doc-month"><h2>{{ doc.month }}</h2></li>
{%- endif %}
{{ caller(doc) }}
{%- endfor %}
{%- if docs.next_cursor %}
{%- set next = url_for(listing[0], categorie=docs.category, q=docs.q or None, apres=docs.next_cursor, mois=ns.month, **listing[1]) %}
<li class="doc-more">
  <a class="btn btn-secondary" href="{{ next }}" hx-get="{{ next }}" hx-trigger="revealed, click" hx-target="closest li" hx-swap="outerHTML" hx-push-url="false">{{ _("Show more documents") }}</a>
</li>
{%- endif %}
{%- endmacro %}
{%- macro row_meta(doc) -%}
<span class="list-meta">{{ doc.category_label }} · <time datetime="{{ doc.act_date.isoformat() }}">{{ doc.act_date|day }}</time>{% if doc.author_name %} · {{ doc.author_name }}{% endif %}</span>
{%- endmacro %}
{%- macro thumb(doc) -%}
{%- if doc.has_thumb %}
<img class="doc-thumb" src="{{ url_for('documents.thumbnail', doc_id=doc.id) }}" alt="" loading="lazy" width="56" height="72">
{%- else %}
<span class="doc-thumb doc-thumb-none">{{ ui.icon("file-text") }}</span>
{%- endif %}
{%- endmacro -%}
{%- if access_id is none %}
{%- call(doc) month_rows(docs, prev_month, ("documents.index", {})) %}
<li class="doc-row{% if doc.hidden %} is-hidden{% endif %}">
  {%- if can_share %}
  <label class="row-check"><input type="checkbox" name="ids" value="{{ doc.id }}" id="sel-{{ doc.id }}" aria-label="{{ _('Select “%(title)s”', title=doc.title) }}"></label>
  {%- endif %}
  <a class="doc-link" href="{{ url_for('documents.show', doc_id=doc.id) }}">
    {{ thumb(doc) }}
    <span class="list-main">
      <span class="list-title">{{ doc.title }}</span>
      {{ row_meta(doc) }}
      {%- if doc.hidden %}<span class="doc-flags">{{ ui.badge(_("Hidden"), "warning", icon="eye-off") }}</span>{% endif %}
    </span>
  </a>
</li>
{%- endcall %}
{%- else %}
{%- call(doc) month_rows(docs, prev_month, ("pro.record_documents", {"access_id": access_id})) %}
<li class="pro-doc-row">
  <a href="{{ url_for('pro.record_document', access_id=access_id, doc_id=doc.id) }}">
    <span class="pro-doc-icon">{{ ui.icon("file-text") }}</span>
    <span class="list-main">
      <span class="list-title">{{ doc.title }}</span>
      {{ row_meta(doc) }}
    </span>
    {%- if doc.hidden %}{{ ui.badge(_("Hidden"), "warning", icon="eye-off") }}{% endif %}
    <span class="pro-doc-chevron">{{ ui.icon("chevron-right") }}</span>
  </a>
</li>
{%- endcall %}
{%- endif %}"""

ODD = '<b>O\'Brien & "Fils"</b>'


def row(n: int, day: date, **kw) -> dict:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "title": f"Compte rendu {n}",
        "category_label": "Imaging",
        "act_date": day,
        "author_name": "Dr Alice Durand",
        "hidden": False,
        "has_thumb": False,
        "month_key": f"{day.year:04d}-{day.month:02d}",
        "month": f"Month {day.month} {day.year}",
        **kw,
    }


def listing(next_cursor: str | None) -> dict:
    return {
        "rows": [
            row(1, date(2026, 11, 24), has_thumb=True),
            row(2, date(2026, 11, 5), hidden=True, title=ODD, author_name=None),
            row(3, date(2026, 10, 31), author_name=ODD, category_label=ODD),
            row(4, date(2025, 1, 18), hidden=True, has_thumb=True),
        ],
        "next_cursor": next_cursor,
        "category": "imagerie",
        "q": "scanner & IRM",
    }


def same(drawn: str, expected: str) -> bool:
    """Equal once each run of whitespace is one space (where the markup has some, both have)."""
    return re.sub(r"\s+", " ", drawn).strip() == re.sub(r"\s+", " ", expected).strip()


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("can_share", [True, False])
@pytest.mark.parametrize("next_cursor", [None, "2025-01-18~00000000-0000-4000-8000-000000000004"])
def test_holder_rows_are_what_the_macros_drew(app, language, can_share, next_cursor):
    docs = listing(next_cursor)
    with app.test_request_context("/documents"), force_locale(language):
        expected = render_template_string(
            JINJA_ROWS, docs=docs, prev_month="2026-11", can_share=can_share, access_id=None
        )
        drawn = document_rows(docs, "2026-11", can_share)
    assert "&lt;b&gt;O&#39;Brien &amp; &#34;Fils&#34;&lt;/b&gt;" in drawn
    assert ("mois=2025-01" in drawn) == bool(next_cursor) and drawn.count('class="doc-month"') == 2
    assert same(drawn, expected), (drawn, expected)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("next_cursor", [None, "2025-01-18~00000000-0000-4000-8000-000000000004"])
def test_professional_rows_are_what_the_macros_drew(app, language, next_cursor):
    docs, access_id = listing(next_cursor), "11111111-2222-4333-8444-555555555555"
    with app.test_request_context("/pro"), force_locale(language):
        expected = render_template_string(JINJA_ROWS, docs=docs, prev_month=None, access_id=access_id)
        drawn = pro_document_rows(docs, None, access_id)
    assert f"/pro/dossier/{access_id}/documents/00000000-0000-4000-8000-000000000001" in drawn
    assert drawn.count('class="doc-month"') == 3
    assert same(drawn, expected), (drawn, expected)
