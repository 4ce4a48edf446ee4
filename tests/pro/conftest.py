"""Professional-side fixtures: a holder's space with documents, a summary and measures (shares
come from the root make_share factory; typing a code: tests/helpers.use_code)."""

from __future__ import annotations

from datetime import date, time

import pytest

from blueprints.profile.models import Allergy, ProfileFacts
from core.db import db
from tests.samples import TEXT, pdf_bytes


@pytest.fixture(autouse=True)
def _empty_blob_store(request):
    if "app" in request.fixturenames:
        request.getfixturevalue("fresh_store")


@pytest.fixture
def space(app, make_holder, make_document, make_measure):
    """A holder with a biology result, a prescription, a hidden report, an allergy and a weight.
    Returns a dict of ids and the holder's account."""
    account, _ = make_holder(given_names="Camille", family_name="Martin")
    ids = {
        "bio": make_document(account, pdf_bytes(), "bilan.pdf", category="BIOLOGIE", title="Bilan sanguin").id,
        "rx": make_document(account, TEXT, "ordonnance.txt", category="ORD_SOIN", title="Ordonnance").id,
        "hidden": make_document(
            account, TEXT, "psy.txt", category="CPT_REND", title="Compte rendu confidentiel", hidden=True
        ).id,
    }
    make_measure(account, "weight", 72.4, day=date(2026, 3, 1), at=time(9, 0))  # 08:00 UTC
    with app.app_context():
        db.session.add(ProfileFacts(patient_id=account.patient_id, blood_group="A+"))
        db.session.add(Allergy(patient_id=account.patient_id, substance="Pénicilline", severity="severe"))
        db.session.commit()
    return {"account": account, "patient_id": account.patient_id, **ids}
