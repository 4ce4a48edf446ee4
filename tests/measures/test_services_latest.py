"""The latest measure of each kind (home card, measures overview, professional record): one
statement built once per kind of viewer, one index seek per kind, each space its own values."""

from flask_babel import force_locale
from sqlalchemy import select, text

from blueprints.measures import kinds, services
from blueprints.measures.models import Measure
from core.access import Viewer, viewer_for
from core.compiled import Fixed
from core.db import db
from tests.helpers import statements


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


def test_newest_of_each_kind_and_of_this_space_only(holder_space, make_holder):
    viewer, _ = holder_space
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


def test_one_statement_per_call(holder_space, monkeypatch):
    """One statement, compiled once and run on the driver's cursor (docs/performance.md, 15):
    SQLAlchemy's execution layer sees none."""
    viewer, _ = holder_space
    _add(viewer.patient_id, "weight", 1_700_000_000, 70.0)
    ran = []
    real = Fixed._execute
    monkeypatch.setattr(Fixed, "_execute", lambda self, params: ran.append(self) or real(self, params))
    with statements(db.engine) as seen:
        assert services.latest_per_kind(viewer)["weight"].value == 70.0
    assert len(ran) == 1 and seen == []


def test_every_kind_is_an_index_seek_never_a_scan(holder_space):
    """However many measures a watch sent, the card reads one row per kind (SQLite's plan;
    PostgreSQL walks the same unique index backwards)."""
    viewer, _ = holder_space
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
    # each sub-select follows the index alone: no temporary tree, not even for ties ("RIGHT PART")
    assert not any("TEMP B-TREE" in d for d in details), details


def test_measures_at_the_same_instant_the_card_shows_the_lists_first(holder_space, monkeypatch):
    """Ties at one instant go as every list orders them (taken_at, then id): the statement's two
    newest per kind tell a tie, read then on its own (docs/performance.md, 44)."""

    viewer, _ = holder_space
    _add(viewer.patient_id, "weight", 1_700_000_000, 70.0)
    for value in (72.0, 71.0, 73.0):  # three at the newest instant
        _add(viewer.patient_id, "weight", 1_700_100_000, value)
    _add(viewer.patient_id, "spo2", 1_700_000_000, 97)
    _add(viewer.patient_id, "spo2", 1_700_000_000, 98)
    _add(viewer.patient_id, "heart_rate", 1_700_000_000, 61)
    ran = []
    real = Fixed._execute
    monkeypatch.setattr(Fixed, "_execute", lambda self, params: ran.append(self) or real(self, params))
    latest = services.latest_per_kind(viewer)
    assert len(ran) == 3  # the kinds' two newest, then each of the two ties
    for kind in ("weight", "spo2", "heart_rate"):
        first = db.session.scalars(
            select(Measure)
            .where(Measure.patient_id == viewer.patient_id, Measure.kind == kind)
            .order_by(Measure.taken_at.desc(), Measure.id.desc())
        ).first()
        assert latest[kind].value == first.value, kind
        shown = services.recent(viewer, kinds.get(kind), limit=5)["rows"][0]["value"]
        assert shown == services.show_value(kinds.get(kind), latest[kind].value, latest[kind].value2), kind


def test_home_card_labels_come_from_a_memo_of_kind_and_language(app, holder_space, make_holder):
    """The home card's labels are memoised on (kind, language) alone (docs/performance.md, 5):
    each language gets its own words, and another person's values add nothing to the memo."""
    viewer, _ = holder_space
    other, _ = make_holder()
    other_viewer = viewer_for(db.session.merge(other))
    _add(viewer.patient_id, "weight", 1_700_000_000, 70.0)
    _add(other_viewer.patient_id, "weight", 1_700_000_500, 99.0)
    services._kind_label.cache_clear()

    def card(who, language):
        with app.test_request_context("/"), force_locale(language):
            return services.dashboard_card(who)

    assert [c["label"] for c in card(viewer, "fr")] == ["Poids"]
    assert [c["label"] for c in card(viewer, "en")] == ["Weight"]
    assert services._kind_label.cache_info().currsize == 2
    theirs = card(other_viewer, "fr")
    assert theirs[0]["label"] == "Poids" and theirs[0]["value"].startswith("99")
    assert services._kind_label.cache_info().currsize == 2  # no person's value is a key
