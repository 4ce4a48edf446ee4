"""history_rows() draws a page's rows exactly as the Jinja loop it replaced (docs/performance.md,
52): every kind of actor, failures, identities, devices, kiosks, addresses and accesses, values
that need escaping, in both languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from flask import render_template_string
from flask_babel import force_locale

from blueprints.history.rows import history_rows
from blueprints.history.services import Row

# The loop of templates/history/_page.html before history_rows(), kept here as the reference.
JINJA_ROWS = """{%- import "components/ui.html" as ui -%}
  {%- for row in rows %}
  <li class="history-row{% if row.failed %} history-failed{% endif %}">
    <span class="history-icon">{{ ui.icon(row.icon) }}</span>
    <div class="list-main">
      <span class="list-title">{{ row.sentence }}</span>
      <span class="list-meta history-who">
        {%- if row.actor_kind == "holder" %}{{ ui.badge(row.actor, "primary", icon="user") }}
        {%- elif row.actor_kind == "professional" %}{{ ui.badge(row.actor_kind_label, "neutral", icon="stethoscope") }} <span class="history-actor">{{ row.actor }}</span>{% if row.profession %}<span>· {{ row.profession }}</span>{% endif %}
        {%- elif row.actor_kind == "anonymous" %}{{ ui.badge(row.actor, "warning", icon="circle-help") }}
        {%- elif row.actor_kind == "emergency" %}{{ ui.badge(row.actor_kind_label, "danger", icon="heart-pulse") }}{% if row.actor != row.actor_kind_label %} <span class="history-actor">{{ row.actor }}</span>{% endif %}
        {%- else %}{{ ui.badge(row.actor_kind_label, "neutral") }}{% if row.actor != row.actor_kind_label %} <span class="history-actor">{{ row.actor }}</span>{% endif %}
        {%- endif %}
        {%- if row.failed %} {{ ui.badge(_("Failed"), "warning", icon="triangle-alert") }}{% endif %}
      </span>
      {%- if row.identity %}
      <span class="list-meta history-identity history-identity-{{ row.identity }}">{{ ui.icon("shield-check" if row.identity == "verified" else "circle-help") }}<span>{{ row.identity_label }}</span></span>
      {%- endif %}
      <span class="list-meta"><time datetime="{{ row.at.isoformat() }}">{{ row.at|moment }}</time>
        {%- if row.device %} · {{ row.device }}{% endif %}
        {%- if row.kiosk %} · {{ _("public kiosk") }}{% endif %}
        {%- if row.ip %} · {{ _("IP address %(ip)s", ip=row.ip) }}{% endif %}
        {%- if row.access %} · {{ _("access used: %(access)s", access=row.access) }}{% endif %}</span>
    </div>
  </li>
  {%- endfor %}"""

BASE = Row(
    id=1,
    at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # the night the clocks change in Paris
    actor="You",
    actor_kind="holder",
    actor_kind_label="You",
    profession="",
    action="login",
    sentence="Login with password",
    target="",
    grant_id="",
    ip="",
    device="",
    kiosk=False,
    failed=False,
    icon="log-in",
)


def rows() -> list[Row]:
    odd = '<b>O\'Brien & "Fils"</b>'
    return [
        BASE,
        replace(BASE, ip="203.0.113.9", device="Firefox sur Android", kiosk=True),
        replace(
            BASE,
            actor="Dr Alice Durand",
            actor_kind="professional",
            actor_kind_label="Health professional",
            profession="Médecin généraliste",
            identity="verified",
            identity_label="verified professional account",
            access="permanent access",
            icon="stethoscope",
        ),
        replace(
            BASE,
            actor=odd,
            actor_kind="professional",
            actor_kind_label="Health professional",
            identity="typed",
            identity_label="name given by the person, not verified",
            access=f"code “{odd}”",
            sentence=f"Document “{odd}” viewed",
        ),
        replace(BASE, actor="Unknown person", actor_kind="anonymous", failed=True, ip="198.51.100.7"),
        replace(BASE, actor="Emergency access", actor_kind="emergency", actor_kind_label="Emergency access"),
        replace(BASE, actor="SAMU 75", actor_kind="emergency", actor_kind_label="Emergency access", failed=True),
        replace(BASE, actor="Mon Appli", actor_kind="app", actor_kind_label="Application"),
        replace(BASE, actor="Carnet", actor_kind="system", actor_kind_label="Carnet", device="administration command"),
        replace(BASE, actor=odd, actor_kind="helper", actor_kind_label="Helper", at=datetime.now(UTC)),
    ]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_rows_are_what_the_jinja_loop_drew(app, language):
    page = rows()
    with app.test_request_context("/historique"), force_locale(language):
        expected = render_template_string(JINJA_ROWS, rows=page)
        drawn = history_rows(page)
    assert "&lt;b&gt;O&#39;Brien &amp; &#34;Fils&#34;&lt;/b&gt;" in drawn
    assert drawn == expected


def test_no_rows_draw_nothing(app):
    with app.test_request_context("/historique"):
        assert history_rows([]) == ""
