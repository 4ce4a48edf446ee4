"""access.gated_as_its_kind(): a statement built once per kind of viewer stands for a viewer's
own only where scope() writes the same filter for both."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from blueprints.documents.models import Document
from blueprints.reimbursements.models import Reimbursement
from core import access
from core.access import Viewer

SPACE = "b1c2d3e4-0000-4000-8000-000000000001"
DOCS = {"documents": {"read"}}


def _where(viewer: Viewer, model) -> str:
    """The filter scope() writes, its parameters' names and values left out."""
    sql = str(access.scope(viewer, select(model.id)).compile(compile_kwargs={"render_postcompile": True}))
    return re.sub(r":\w+", ":p", sql)


CASES = [
    ("holder", Viewer("holder", patient_id=SPACE, rights=DOCS), True),
    ("guardian", Viewer("guardian", patient_id=SPACE, rights=DOCS), True),
    ("holder with a category limit", Viewer("holder", patient_id=SPACE, rights=DOCS, categories=("ORD",)), False),
    ("helper", Viewer("helper", patient_id=SPACE, rights=DOCS), True),
    ("helper seeing hidden documents", Viewer("helper", patient_id=SPACE, rights=DOCS, include_hidden=True), False),
    ("professional by a share code", Viewer("professional", patient_id=SPACE, rights=DOCS), True),
    (
        "professional with an account (their hidden deposits)",
        Viewer(
            "professional",
            patient_id=SPACE,
            rights=DOCS,
            account_id="a1",
            professional=SimpleNamespace(rpps="10003436335"),
        ),
        False,
    ),
    (
        "app reading reimbursements",
        Viewer("app", patient_id=SPACE, rights={"fhir.ExplanationOfBenefit": {"read"}}),
        False,
    ),
]


@pytest.mark.parametrize("viewer, expected", [(v, e) for _n, v, e in CASES], ids=[n for n, _v, _e in CASES])
def test_a_viewer_is_gated_as_its_kind_only_where_scope_writes_the_same(viewer, expected):
    assert access.gated_as_its_kind(viewer) is expected
    same = all(
        _where(viewer, model) == _where(access.kind_gate(viewer.kind), model) for model in (Document, Reimbursement)
    )
    assert same is expected  # the rule says exactly when scope() agrees with the kind's statement


@pytest.mark.parametrize("viewer, _expected", [(v, e) for _n, v, e in CASES], ids=[n for n, _v, _e in CASES])
def test_a_gate_stands_for_a_viewer_exactly_where_scope_writes_the_same(viewer, _expected):
    """access.gate_of() (docs/performance.md, 80): a professional with an account is gated by
    the kind's author gate, their RPPS a parameter; the others as gated_as_its_kind() says."""
    gate = access.gate_of(viewer)
    candidates = [(viewer.kind, False), (viewer.kind, True)]
    same = [
        g
        for g in candidates
        if all(_where(viewer, m) == _where(access.kind_gate(*g), m) for m in (Document, Reimbursement))
    ]
    assert (gate is not None) == bool(same) and (gate is None or gate in same)
    if gate is not None:
        params = access.gate_params(viewer, gate[1])
        assert params["patient_id"] == SPACE and params.get("rpps") == ("10003436335" if gate[1] else None)


def test_the_author_gate_writes_the_rpps_as_a_parameter():
    sql = str(access.scope(access.kind_gate("professional", author=True), select(Document.id)).compile())
    assert "documents.author_rpps = :rpps" in sql and "documents.hidden IS 0" in sql.replace("false", "0")
