"""The documents list as it opens (no search, no category) reads its rows and its chips' counts
through statements built and compiled once per kind of viewer (docs/performance.md, 73), and a
record asked for by id goes through its gate built once too (76): no SQLAlchemy statement built
on a visit, and what they read is what the gate lets the viewer see."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from blueprints.documents import services
from blueprints.documents.models import Document
from core import access
from core.db import db
from core.people import Account
from tests.helpers import statements


@pytest.fixture
def documents(app, holder, make_document):
    """Seven documents, two hidden, three on one day (the cursor orders them by id)."""
    _client, account = holder
    days = [date(2026, 3, 12), date(2026, 3, 12), date(2026, 3, 12), date(2026, 2, 1), date(2025, 12, 24)]
    days += [date(2026, 1, 5), date(2026, 4, 30)]
    categories = ["ORD_SOIN", "BIOLOGIE", "ORD_SOIN", "RADIO_SC", "BIOLOGIE", "CPT_REND", "ORD_SOIN"]
    for i, (day, category) in enumerate(zip(days, categories, strict=True)):
        make_document(
            account, name=f"doc{i}.txt", act_date=day, category=category, title=f"Doc {i}", hidden=i in (1, 4)
        )
    return account


def test_the_list_as_it_opens_builds_no_documents_statement(app, holder, documents):
    client, _account = holder
    with app.test_request_context("/"):
        engine = db.engine
        cursor = services.listing(_holder(documents), limit=3)["next_cursor"]
    with statements(engine) as seen:
        page = client.get("/documents").get_data(as_text=True)
        rows = client.get(f"/documents?apres={cursor}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Doc 6" in page and "Doc 4" in page and "Doc 3" in rows and "Doc 6" not in rows
    assert [s for s in seen if "FROM documents" in s] == []
    assert services._list_statements.cache_info().currsize >= 2


def _holder(account):
    return access.Viewer("holder", account, account.patient_id, rights=access.HOLDER_RIGHTS)


def _pages(viewer, limit):
    out, after = [], None
    while True:
        found = services.listing(viewer, after=after, limit=limit, with_counts=after is None)
        out.append(found)
        after = found["next_cursor"]
        if after is None:
            return out


@pytest.mark.parametrize("limit", [2, 3, 30])
def test_the_compiled_list_reads_what_the_gate_reads(app, documents, make_holder, monkeypatch, limit):
    """Page by page, the holder (hidden documents included), a professional by code (hidden ones
    left out) and another space (nothing) read what the statement scope() builds reads."""
    other, _code = make_holder()
    viewers = [
        _holder(documents),
        access.Viewer("professional", None, documents.patient_id, rights={"documents": {"read"}}, grant_kind="share"),
        _holder(other),
    ]
    with app.test_request_context("/"):
        for viewer in viewers:
            assert access.gated_as_its_kind(viewer)
            compiled = _pages(viewer, limit)
            monkeypatch.setattr(access, "gated_as_its_kind", lambda v: False)
            built = _pages(viewer, limit)
            monkeypatch.undo()
            assert compiled == built
        seen = [[r["title"] for p in _pages(v, limit) for r in p["rows"]] for v in viewers]
    newest_first = seen[0][0], set(seen[0][1:4]), seen[0][4:]  # one day's three by id
    assert newest_first == ("Doc 6", {"Doc 0", "Doc 1", "Doc 2"}, ["Doc 3", "Doc 5", "Doc 4"])
    assert sorted(seen[1]) == [f"Doc {i}" for i in (0, 2, 3, 5, 6)] and seen[2] == []


def test_a_record_by_id_is_found_through_its_gate_built_once(app, documents, make_holder):
    """access.get_or_404 (docs/performance.md, 76): for a viewer the kind's gate stands for, the
    statement is built once per model and kind; another space's record, and a hidden one for a
    professional by code, are not found; a viewer with a category limit still gets its own gate."""
    other, _code = make_holder()
    by_code = access.Viewer("professional", None, documents.patient_id, rights={"documents": {"read"}})
    limited = access.Viewer(
        "professional", None, documents.patient_id, rights={"documents": {"read"}}, categories=("RADIO_SC",)
    )
    with app.test_request_context("/"):
        ids = {
            d.title: d.id
            for d in db.session.scalars(select(Document).where(Document.patient_id == documents.patient_id))
        }
        assert access.get_or_404(_holder(documents), Document, ids["Doc 1"]).title == "Doc 1"  # hidden: the holder's
        assert access.get_or_404(by_code, Document, ids["Doc 0"]).title == "Doc 0"
        for viewer, title in ((by_code, "Doc 1"), (_holder(other), "Doc 0"), (limited, "Doc 0"), (limited, "Doc 1")):
            with pytest.raises(NotFound):
                access.get_or_404(viewer, Document, ids[title])
        assert access.get_or_404(limited, Document, ids["Doc 3"]).title == "Doc 3"
        assert access._by_id.cache_info().currsize >= 2


def test_a_professional_with_an_account_reads_their_own_hidden_deposit_through_the_author_gate(
    app, documents, make_pro, monkeypatch
):
    """The author gate (docs/performance.md, 80): a professional with an account reads, page by
    page, what the statement scope() builds for them reads: the documents not hidden, and the
    hidden one they deposited themselves (by their RPPS), not another's hidden one."""
    pro = make_pro()
    with app.test_request_context("/", method="POST"):
        account = db.session.get(Account, pro.id)
        hidden = db.session.scalar(
            select(Document).where(Document.patient_id == documents.patient_id, Document.title == "Doc 4")
        )
        hidden.author_rpps = account.professional.rpps
        db.session.commit()
    with app.test_request_context("/"):
        account = db.session.get(Account, pro.id)
        hidden = db.session.scalar(select(Document).where(Document.title == "Doc 4"))
        viewer = access.Viewer(
            "professional",
            account,
            documents.patient_id,
            professional=account.professional,
            rights={"documents": {"read"}},
            grant_kind="grant",
        )
        assert access.gate_of(viewer) == ("professional", True)
        for limit in (2, 30):
            compiled = _pages(viewer, limit)
            monkeypatch.setattr(access, "gate_of", lambda v: None)
            built = _pages(viewer, limit)
            monkeypatch.undo()
            assert compiled == built
        titles = sorted(r["title"] for p in _pages(viewer, 30) for r in p["rows"])
        assert titles == [f"Doc {i}" for i in (0, 2, 3, 4, 5, 6)]  # Doc 1 stays hidden: not theirs
        assert access.get_or_404(viewer, Document, hidden.id).title == "Doc 4"
        other = db.session.scalar(select(Document.id).where(Document.title == "Doc 1"))
        with pytest.raises(NotFound):
            access.get_or_404(viewer, Document, other)
