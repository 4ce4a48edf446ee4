"""The latest measure of each kind (home card, measures overview, professional record): one
statement built once per kind of viewer, one index seek per kind, each space its own values."""

from sqlalchemy import event, text

from blueprints.measures import kinds, services
from blueprints.measures.models import Measure
from core.access import Viewer, viewer_for
from core.db import Fixed, db


def _add(patient_id: str, kind: str, taken_at: int, value: float, value2: float | None = None) -> None:
    k = kinds.get(kind)
    db.session.add(
        Measure(
            patient_id=patient_id,
            kind=kind,
            taken_at=taken_at,
            utc_offset=60,
            value=value,
            value2=value2,
            source="manual",
            dedup=kinds.dedup_key(k, value, value2, None),
        )
    )
    db.session.flush()


def test_newest_of_each_kind_and_of_this_space_only(space, make_holder):
    viewer, _ = space
    other, _ = make_holder()
    other_viewer = viewer_for(db.session.merge(other))
    _add(viewer.patient_id, "weight", 1_700_000_000, 70.0)
    _add(viewer.patient_id, "weight", 1_700_100_000, 71.5)  # newer
    _add(viewer.patient_id, "blood_pressure", 1_700_050_000, 128, 82)
    _add(other_viewer.patient_id, "weight", 1_800_000_000, 99.0)  # newest of all, but another space
    services.latest_per_kind(other_viewer)  # the statement is now built and shared
    latest = services.latest_per_kind(viewer)
    assert set(latest) == {"weight", "blood_pressure"}
    assert latest["weight"].value == 71.5 and latest["blood_pressure"].value2 == 82
    assert services.latest_per_kind(other_viewer)["weight"].value == 99.0


def test_no_space_no_measures(app):
    with app.test_request_context(method="POST"):
        assert services.latest_per_kind(Viewer("professional")) == {}


def test_one_statement_per_call(space, monkeypatch):
    """One statement, compiled once and run on the driver's cursor (docs/performance.md, 15):
    SQLAlchemy's execution layer sees none."""
    viewer, _ = space
    _add(viewer.patient_id, "weight", 1_700_000_000, 70.0)
    seen, ran = [], []
    real = Fixed._execute
    monkeypatch.setattr(Fixed, "_execute", lambda self, params: ran.append(self) or real(self, params))

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert services.latest_per_kind(viewer)["weight"].value == 70.0
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(ran) == 1 and seen == []


def test_every_kind_is_an_index_seek_never_a_scan(space):
    """However many measures a watch sent, the card reads one row per kind (SQLite's plan;
    PostgreSQL walks the same unique index backwards)."""
    viewer, _ = space
    stmt = services._latest_statement(viewer.kind).statement.params(patient_id=viewer.patient_id)
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    entered = sum(1 for k in kinds.KINDS.values() if k.entered)
    if db.engine.dialect.name == "postgresql":
        # An empty table is scanned whatever its indexes: forbid that, then check the index serves every kind.
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in db.session.execute(text("EXPLAIN " + sql)))
        db.session.rollback()
        assert plan.count("ux_measures_patient_kind_time") == entered, plan
        assert "Seq Scan on measures" not in plan, plan
        return
    plan = db.session.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
    details = [row[-1] for row in plan]
    searches = [d for d in details if "ux_measures_patient_kind_time" in d]
    assert len(searches) == entered
    assert not any(d.startswith("SCAN measures") for d in details)
    # ties on the same instant are ordered by id among themselves only ("RIGHT PART"): still one seek
    assert not any("TEMP B-TREE FOR ORDER BY" in d for d in details), details


def test_home_card_values_in_each_language(space):
    """The card's labels (remembered per kind and language) and values are each language's
    own: one language's never answers for another's, and the value is what show_value() says."""
    from flask_babel import force_locale

    viewer, _ = space
    _add(viewer.patient_id, "weight", 1_700_000_000, 72.4)
    _add(viewer.patient_id, "steps", 1_700_000_100, 8452)
    with force_locale("fr"):
        fr = {c["slug"]: c for c in services.dashboard_card(viewer)}
    with force_locale("en"):
        en = {c["slug"]: c for c in services.dashboard_card(viewer)}
        assert en[kinds.get("weight").slug]["value"] == services.show_value(kinds.get("weight"), 72.4)
    weight, steps = kinds.get("weight").slug, kinds.get("steps").slug
    assert fr[weight]["value"] == "72,4\u00a0kg" and en[weight]["value"] == "72.4\u00a0kg"
    assert fr[steps]["value"] == "8\u202f452 pas" and en[steps]["value"] == "8,452 steps"
    assert fr[weight]["label"] == "Poids" and en[weight]["label"] == "Weight"
