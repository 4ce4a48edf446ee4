"""The statements benchmark records what a page sends, times the statements inside the page, and
replays them in turn or pipelined as it says (benchmarks/statements.py)."""

from sqlalchemy import bindparam, select

from benchmarks import statements
from core.compiled import Fixed
from core.db import libpq_url
from core.people import Patient


def _two_statements(app, patient_id):
    by_id = Fixed(select(Patient.given_names).where(Patient.id == bindparam("pid")))
    everyone = Fixed(select(Patient.id).order_by(Patient.id))

    def call():
        with app.test_request_context():
            assert by_id.scalar({"pid": patient_id}) == "Ana"
            assert patient_id in {r.id for r in everyone.all({})}

    return call


def test_the_statements_a_call_sends_are_recorded_in_order_with_their_values(app, make_holder):
    patient_id = make_holder(given_names="Ana")[0].patient_id
    original = Fixed._execute_on
    seen = statements.recorded(_two_statements(app, patient_id))
    assert Fixed._execute_on is original
    assert len(seen) == 2
    (first, values), (second, _) = seen
    assert "given_names" in first and "ORDER BY" in second
    assert patient_id in (values.values() if isinstance(values, dict) else values)


def test_the_statements_are_timed_inside_the_page_reads_included(app, make_holder):
    patient_id = make_holder(given_names="Ana")[0].patient_id
    original = Fixed._execute_on
    ms, sent = statements.in_page(_two_statements(app, patient_id), 3)
    assert Fixed._execute_on is original
    assert sent == 2 and ms > 0


class _Conn:
    """A connection that notes what is sent, read and piped, in order."""

    def __init__(self):
        self.events = []

    def cursor(self):
        conn = self

        class Cursor:
            def execute(self, query, params):
                conn.events.append(("send", query, params))

            def fetchall(self):
                conn.events.append(("read",))
                return []

            def close(self):
                pass

        return Cursor()

    def pipeline(self):
        conn = self

        class Pipeline:
            def __enter__(self):
                conn.events.append(("pipe",))

            def __exit__(self, *exc):
                conn.events.append(("sync",))

        return Pipeline()


def test_in_turn_each_answer_is_read_before_the_next_statement_is_sent():
    conn = _Conn()
    sent = [("SELECT 1", {}), ("SELECT 2", {"a": 1})]
    figures = statements.replay(conn, sent, n=3, pipelined=False)
    rounds = statements.WARMUP + 3
    assert conn.events == [("send", "SELECT 1", {}), ("read",), ("send", "SELECT 2", {"a": 1}), ("read",)] * rounds
    assert set(figures) == {"user", "system", "wall"} and figures["wall"] > 0


def test_pipelined_every_statement_is_sent_before_any_answer_is_read_in_one_pipeline():
    conn = _Conn()
    sent = [("SELECT 1", {}), ("SELECT 2", {"a": 1})]
    statements.replay(conn, sent, n=2, pipelined=True)
    one = [("pipe",), ("send", "SELECT 1", {}), ("send", "SELECT 2", {"a": 1}), ("read",), ("read",), ("sync",)]
    assert conn.events == one * (statements.WARMUP + 2)


def test_only_the_reads_are_sent_again():
    sent = [("SELECT 1", {}), ("INSERT INTO t VALUES (1)", {}), ("  select 2", []), ("UPDATE t SET a = 1", {})]
    assert statements.reads(sent) == [("SELECT 1", {}), ("  select 2", [])]


def test_the_address_given_to_psycopg_is_the_apps_without_its_driver():
    url = "postgresql+psycopg://postgres:secret@127.0.0.1:5432/carnet_bench_peak_1000"
    assert libpq_url(url) == "postgresql://postgres:secret@127.0.0.1:5432/carnet_bench_peak_1000"
