"""Every response that carries the record to a non-holder leaves a trace (SECURITY.md, "Audit
trail"): every GET rule of a holder's record (`pro.*` under /pro/dossier/<access_id>/...), asked
by a share, a grant and an emergency viewer, each once the de-duplication window of the request
before has passed, so no earlier trace can stand in for it. A record route that answers 2xx
without a new trace for that viewer fails here the day it is added.

Chart images follow one rule (blueprints/pro/record_routes.py): traced as their own read of a
kind over a period, unless the same session traced that same read (the measure page, or that
chart) less than CHART_TRACE_MINUTES ago; the tests below pin both sides of it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.history.actions import _record_viewed
from blueprints.pro.record_routes import CHART_TRACE_MINUTES
from core import audit, clock
from core.db import db
from tests.security.test_access_matrix import Case, _connect, _objects, _people, _url

RECORD_VIEWERS = ("code_in_scope", "pro_grant", "pro_emergency")  # a share, a grant, an emergency access


def _record_rules(app):
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("pro.") and r.rule.startswith("/pro/dossier/") and "GET" in r.methods
    ]
    return sorted(rules, key=lambda r: r.rule)


def _traces(app, access_id: str) -> list:
    with app.app_context():
        return db.session.execute(
            select(
                audit.AuditEvent.id,
                audit.AuditEvent.actor_type,
                audit.AuditEvent.patient_id,
                audit.AuditEvent.action,
                audit.AuditEvent.detail,
            )
            .where(audit.AuditEvent.grant_id == access_id)
            .order_by(audit.AuditEvent.id)
        ).all()


@pytest.fixture
def world(app, make_holder, make_pro, login):
    w = _people(app, make_holder, make_pro)
    _objects(app, w)
    return w


def test_every_record_read_leaves_a_trace(app, world, login):
    rules = _record_rules(app)
    assert {r.endpoint for r in rules} >= {"pro.record", "pro.record_chart", "pro.record_download"}
    untraced, answered = [], 0
    for viewer in RECORD_VIEWERS:
        _connect(app, world, viewer, login)
    for rule in rules:
        clock.advance(timedelta(minutes=CHART_TRACE_MINUTES, seconds=1))  # no trace of this session stands in
        for viewer in RECORD_VIEWERS:
            case = Case(rule.rule, rule.endpoint, "GET", tuple(sorted(rule.arguments)), viewer)
            url, _names = _url(case, world)
            if "/mesures/" in url:
                url += "?periode=all"  # every value of the kind
            access_id = world.access[viewer]
            before = {t.id for t in _traces(app, access_id)}
            r = world.clients[viewer].get(url)
            assert r.status_code < 500, f"GET {url} as {viewer}: {r.status_code}"
            if not 200 <= r.status_code < 300:
                continue
            answered += 1
            new = [t for t in _traces(app, access_id) if t.id not in before]
            if not new:
                untraced.append(f"GET {url} [{rule.endpoint}] as {viewer}")
                continue
            assert all(t.actor_type == "professional" and t.patient_id == world.holder_patient_id for t in new)
    assert answered >= len(rules) * len(RECORD_VIEWERS) - 4  # the emergency viewer may not deposit
    assert not untraced, "record responses without a trace:\n" + "\n".join(untraced)


# --------------------------------------------------------------------------- the chart rule


def _charts(app, access_id: str) -> list:
    return [
        t.detail
        for t in _traces(app, access_id)
        if t.action == "record_viewed" and t.detail.get("page") in ("measure", "measure_chart")
    ]


def test_a_chart_read_alone_is_traced_once_per_window(app, world, login):
    viewer = "pro_grant"
    _connect(app, world, viewer, login)
    client, access_id = world.clients[viewer], world.access[viewer]
    chart = f"/pro/dossier/{access_id}/mesures/poids/graphique.svg"
    assert client.get(chart + "?periode=all").status_code == 200
    assert _charts(app, access_id) == [{"page": "measure_chart", "kind": "weight", "period": "all"}]
    # The same read again (another size, the same values) within the window: the trace stands.
    assert client.get(chart + "?periode=all&taille=compact").status_code == 200
    assert len(_charts(app, access_id)) == 1
    # Another period is another read.
    assert client.get(chart + "?periode=1y").status_code == 200
    assert [d["period"] for d in _charts(app, access_id)] == ["all", "1y"]
    # Past the window, the same read is traced again.
    clock.advance(timedelta(minutes=CHART_TRACE_MINUTES, seconds=1))
    assert client.get(chart + "?periode=all").status_code == 200
    assert [d["period"] for d in _charts(app, access_id)] == ["all", "1y", "all"]


def test_the_chart_of_a_traced_page_is_in_that_trace(app, world, login):
    viewer = "code_in_scope"
    _connect(app, world, viewer, login)
    client, access_id = world.clients[viewer], world.access[viewer]
    page = f"/pro/dossier/{access_id}/mesures/poids"
    html = client.get(page + "?periode=all").get_data(as_text=True)
    assert "graphique.svg?periode=all" in html
    assert client.get(page + "/graphique.svg?periode=all").status_code == 200
    assert client.get(page + "/graphique.svg?periode=all&taille=compact").status_code == 200
    assert _charts(app, access_id) == [{"page": "measure", "kind": "weight", "period": "all"}]
    # Another session of the same access does not share this session's trace.
    _connect(app, world, viewer, login)
    assert world.clients[viewer].get(page + "/graphique.svg?periode=all").status_code == 200
    assert [d["page"] for d in _charts(app, access_id)] == ["measure", "measure_chart"]


def test_chart_traces_are_the_holders_to_read(app):
    """The holder's history names the chart read like a measure page, never the values."""

    with app.test_request_context(method="POST"):
        assert "poids" in _record_viewed({"page": "measure_chart", "kind": "weight", "period": "all"}, "").lower()
        assert _record_viewed({"page": "deposit"}, "") != _record_viewed({"page": "unknown"}, "")
