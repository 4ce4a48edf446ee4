"""Professional-side fixtures: a holder's space with documents, a summary and measures; shares
made the way the sharing screens make them; a helper that types a code on /pro/acces."""
from __future__ import annotations

import io
import os
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from core import clock, grants
from core.db import db
from tests.documents.conftest import TEXT, pdf_bytes

RPPS = "10101010101"


@pytest.fixture(autouse=True)
def _empty_blob_store(request):
    if "app" not in request.fixturenames:
        yield
        return
    import shutil

    app = request.getfixturevalue("app")
    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)
    yield


@pytest.fixture
def space(app, make_holder):
    """A holder with a biology result, a prescription, a hidden report, an allergy and a weight.
    Returns a dict of ids and the holder's account."""
    from blueprints.measures.models import Measure
    from blueprints.documents import services as documents
    from blueprints.profile.models import Allergy, ProfileFacts
    from core.access import viewer_for

    account, _ = make_holder(given_names="Camille", family_name="Martin")
    with app.test_request_context():
        holder = viewer_for(db.session.merge(account))

        def add(content, name, category, title, hidden=False):
            doc = documents.add_documents(holder, [documents.Upload(io.BytesIO(content), name)], category=category,
                                          act_date=date(2026, 3, 12), title=title)[0]
            doc.hidden = hidden
            return doc.id

        ids = {
            "bio": add(pdf_bytes(), "bilan.pdf", "BIOLOGIE", "Bilan sanguin"),
            "rx": add(TEXT, "ordonnance.txt", "ORD_SOIN", "Ordonnance"),
            "hidden": add(TEXT, "psy.txt", "CPT_REND", "Compte rendu confidentiel", hidden=True),
        }
        db.session.add(ProfileFacts(patient_id=account.patient_id, blood_group="A+"))
        db.session.add(Allergy(patient_id=account.patient_id, substance="Pénicilline", severity="severe"))
        taken = int(datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc).timestamp())
        db.session.add(Measure(patient_id=account.patient_id, kind="weight", taken_at=taken, utc_offset=60,
                               value=72.4, source="manual", dedup=""))
        db.session.commit()
    return {"account": account, "patient_id": account.patient_id, **ids}


@pytest.fixture
def make_share(app):
    """make_share(patient_id, scope=..., can_deposit=False, hours=2) → (share id, code, link token)."""
    def factory(patient_id, scope=None, can_deposit=False, hours=2, label="Dr Durand"):
        with app.test_request_context():
            code, prefix, token = grants.new_share_secrets()
            share = grants.Share(patient_id=patient_id, prefix=prefix, code_hash=grants.code_hash(code),
                                 link_hash=grants.link_hash(token), can_deposit=can_deposit, label=label,
                                 scope=scope or {"documents": "all", "summary": True, "measures": True},
                                 expires_at=clock.utcnow() + timedelta(hours=hours))
            db.session.add(share)
            db.session.commit()
            return share.id, code, token
    return factory


def form_token(client) -> str:
    html = client.get("/pro/acces").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def use_code(client, code=None, token=None, rpps=RPPS, csrf=None, htmx=False, **kw):
    """Type a code (or send the link) on /pro/acces; htmx=True as the page's own form sends it."""
    data = {"code": code or "", "token": token or "", "given_name": kw.get("given_name", "Hélène"),
            "family_name": kw.get("family_name", "Durand"), "profession": kw.get("profession", "medecin"),
            "rpps": rpps, "csrf_token": csrf or form_token(client)}
    return client.post("/pro/acces", data=data, headers={"HX-Request": "true"} if htmx else {})


def strip_variable(html: str) -> str:
    """A refusal page without what legitimately differs: the CSRF token and the values typed."""
    html = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1", html)
    html = re.sub(r'(name="csrf_token" type="hidden" value=")[^"]*', r"\1", html)
    return re.sub(r'(<input[^>]*?) value="[^"]*"', r"\1", html)


def events(app, action=None):
    from sqlalchemy import select

    from core.audit import AuditEvent

    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list(db.session.scalars(stmt))
