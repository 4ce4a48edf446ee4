"""Test data made through the real services, the way the app makes it: holders, professionals,
documents, measures and shares. Each call commits in its own request context and returns what
it made (detached objects stay readable: the session does not expire them on commit)."""

from __future__ import annotations

import io
import itertools
import secrets
from datetime import date, time, timedelta

from sqlalchemy import select

from blueprints.apps import oauth, services as apps, tokens as app_tokens
from blueprints.apps.models import Token
from blueprints.auth import services as auth
from blueprints.documents import services as documents
from blueprints.measures import kinds as measure_kinds, services as measures
from blueprints.sharing import services as sharing
from core import clock
from core.access import viewer_for
from core.db import db
from core.people import Account
from tests.helpers import PASSWORD, valid_nir
from tests.samples import TEXT

_numbers = itertools.count(1)


def make_holder(app, pending: bool = False, email: str | None = None, **kw) -> tuple[Account, str]:
    """(account, activation code); active with PASSWORD unless pending=True."""
    n = next(_numbers)
    with app.test_request_context(method="POST"):
        patient, code = auth.create_pending_space(
            nir=kw.get("nir") or valid_nir(f"2870375{100000 + n:06d}"),
            email=email or f"holder{n}@example.fr",
            birth_date=kw.get("birth_date", date(1987, 3, 14)),
            given_names=kw.get("given_names", "Camille"),
            family_name=kw.get("family_name", f"Martin{n}"),
        )
        account = db.session.scalar(select(Account).where(Account.patient_id == patient.id))
        if not pending:
            auth.finish_activation(account, PASSWORD)
        db.session.commit()
        return account, code


def make_pro(app, **kw) -> Account:
    """A registered professional's account, with PASSWORD."""
    n = next(_numbers)
    with app.test_request_context(method="POST"):
        account = auth.create_professional(
            rpps=kw.get("rpps", f"{10000000000 + n}"),
            email=kw.get("email", f"pro{n}@example.fr"),
            given_name="Hélène",
            family_name=f"Bernard{n}",
            profession=kw.get("profession", "medecin"),
            specialty=None,
            password=PASSWORD,
        )
        db.session.commit()
        return account


def _holder_viewer(account_or_patient_id):
    """The holder's viewer, from their account or their patient id."""
    if isinstance(account_or_patient_id, Account):
        return viewer_for(db.session.merge(account_or_patient_id))
    account = db.session.scalar(
        select(Account).where(Account.patient_id == account_or_patient_id, Account.role == "holder")
    )
    return viewer_for(account)


def make_document(app, holder, content: bytes = TEXT, name: str = "ordonnance.txt", *, hidden: bool = False, **kw):
    """One document added by the holder (account or patient id) through the documents service
    (a prescription in plain text by default); hidden=True then hides it, as the holder can."""
    kw.setdefault("category", "ORD_SOIN")
    kw.setdefault("act_date", date(2026, 3, 12))
    with app.test_request_context(method="POST"):
        doc = documents.add_documents(_holder_viewer(holder), [documents.Upload(io.BytesIO(content), name)], **kw)[0]
        doc.hidden = hidden
        db.session.commit()
        return doc


def make_measure(
    app,
    holder,
    kind: str = "weight",
    value: float = 72.4,
    value2: float | None = None,
    *,
    day: date = date(2026, 3, 1),
    at: time = time(9, 0),
    context: str | None = None,
):
    """One measure typed by the holder (account or patient id), through the measures service."""
    with app.test_request_context(method="POST"):
        m = measures.record(
            _holder_viewer(holder),
            measure_kinds.KINDS[kind],
            measures.Entry(value=value, value2=value2, context=context, day=day, at=at),
        )
        db.session.commit()
        return m


def make_share(
    app, holder, scope: dict | None = None, can_deposit: bool = False, hours: float = 2, label: str = "Dr Durand"
) -> tuple[str, str, str]:
    """A share made by the holder (account or patient id) through the sharing service, ending in
    `hours`. Returns (share id, code, link token)."""
    with app.test_request_context(method="POST"):
        created = sharing.create(
            _holder_viewer(holder),
            scope or {"documents": "all", "summary": True, "measures": True},
            "24h",
            None,
            can_deposit,
            label,
        )
        created.share.expires_at = clock.utcnow() + timedelta(hours=hours)
        db.session.commit()
        return created.share.id, created.code, created.token


DEMO_REDIRECT = "http://localhost:8765/callback"


def make_app(app, *, name: str = "Balance Test", purposes=("measures_write", "measures_read"), confidential=False):
    """A referenced app → (App, client secret or None)."""
    with app.test_request_context(method="POST"):
        made, secret = apps.register(
            name=name,
            publisher="Éditeur Test",
            description="Une balance connectée.",
            purpose_keys=list(purposes),
            redirect_uris=[DEMO_REDIRECT],
            referenced_on=date(2026, 11, 1),
            confidential=confidential,
        )
        db.session.commit()
        return made, secret


def make_app_token(app, holder, the_app, purposes=None, scope: str | None = None) -> str:
    """The holder connects the app (for `purposes`, by default all of the app's) and the app holds
    a live access token with `scope` (by default what the connection allows) → the raw token."""
    with app.test_request_context(method="POST"):
        conn = apps.connect(
            _holder_viewer(holder),
            db.session.merge(the_app),
            list(the_app.purposes if purposes is None else purposes),
            "1y",
        )
        raw = secrets.token_urlsafe(32)
        db.session.add(
            Token(
                access_hash=app_tokens.digest(raw),
                app_id=conn.app_id,
                connection_id=conn.id,
                patient_id=conn.patient_id,
                scope=scope if scope is not None else conn.scope,
                issued_at=clock.utcnow(),
                expires_in=oauth.ACCESS_SECONDS,
            )
        )
        db.session.commit()
        return raw
