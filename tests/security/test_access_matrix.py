"""The access matrix: every rule of app.url_map × every state-changing method × every kind of
viewer gets exactly what the rules allow (SECURITY.md, "Access control").

Each rule falls in one class, decided by its endpoint or blueprint (ENDPOINT_CLASSES,
BLUEPRINT_CLASSES, RECORD_SECTIONS); each class says, per viewer, what the answer must be
(EXPECTED_TABLE). A new route is covered the day it is
added: a rule in no class, or a URL parameter with no value in PARAMS, fails its case with a
message saying what to add. URLs carry REAL ids of the first holder's objects, so a 404 is the
gate's, never a typo's; requests that change state carry a valid CSRF token, so a refusal is
the gate's, never CSRF's. A request the rules refuse must also change nothing (the holder's
objects are compared before and after every case), no answer may show a document its
viewer may not see, and every 2xx answer of a record page to a non-holder leaves a trace of
that viewer (COVERED_BY_RECENT_TRACE says which reads a recent trace of the same read covers).

The objects and the logged-in clients are built once for the module and rebuilt only when a
case (the holder deleting a document, a logout...) changed them.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import func, select, text, update

from app import create_app
from blueprints.agenda import ical
from blueprints.agenda.models import AgendaSettings, Appointment, PreventionMark
from blueprints.apps import services as apps
from blueprints.documents import services as documents
from blueprints.documents.models import Document
from blueprints.export.models import SpaceExport
from blueprints.measures import kinds
from blueprints.measures.models import Measure, MeasureImport
from blueprints.messaging import services as messaging
from blueprints.messaging.models import Attachment, Message, Thread
from blueprints.pro.record_routes import CHART_TRACE_MINUTES
from blueprints.profile.models import Allergy
from blueprints.reimbursements.models import Reimbursement
from core import access, blobs, clock, notify
from core.audit import AuditEvent
from core.db import Base, db, end_request, start_request
from core.grants import Block, Delegation, EmergencyAccess, EmergencySettings, Grant, MessageRefusal, Share
from core.notify import Notification
from core.people import Account, Credential, Professional
from core.sessions import UserSession
from core.web import SPACE_KEY
from tests.documents.pdf_samples import multipage_pdf
from tests.helpers import forget_anchors

# --------------------------------------------------------------------------- who asks

VIEWERS = (
    "anonymous",
    "holder",
    "other_holder",
    "code_in_scope",
    "code_out_of_scope",
    "code_expired",
    "code_revoked",
    "code_blocked",
    "pro_grant",
    "pro_emergency",
    "pro_no_grant",
    "helper_measures",
    "helper_documents",
    "helper_ended",
)
# Holders acting as helpers in the first holder's space (their session switched to it before
# every case): the scopes of their delegation; the last one's delegation was ended.
HELPER_SCOPES = {
    "helper_measures": ("measures", "agenda"),
    "helper_documents": ("documents", "messages"),
    "helper_ended": ("documents", "measures", "agenda", "messages"),
}
CODE_VIEWERS = ("code_in_scope", "code_out_of_scope", "code_expired", "code_revoked", "code_blocked")
PRO_ACCOUNTS = ("pro_grant", "pro_emergency", "pro_no_grant")

# --------------------------------------------------------------------------- what they get
# OK         allowed: 2xx/3xx (on a public page any 3xx, elsewhere never one to a login page), or
#            400/422 for a write with no input
# OWN        their own space: OK on URLs without the holder's objects, 404 on URLs that name one
# FORBIDDEN  403
# DENIED     403 or 404
# NOT_FOUND  404
# ANON       the anonymous answer: a redirect to a login page (/connexion, /pro/acces) or 401
# GONE       an ended code session on a record: the anonymous answer, or 404
# SCOPE      a helper in the holder's space: OK when the rights of their scope (core.access.helper_rights)
#            include the section and action of the route's gate, else FORBIDDEN
# BAD        an OAuth endpoint asked with no client and no grant: refused as a bad request (400/401),
#            whoever's cookie comes with it (api: no cookie opens the FHIR API, only a bearer token)
# Classes: public (anyone); feed (the private calendar feed: its token is the credential, whoever
# sends it); home (each person's own home; a code session's is its record);
# account (a person's own passkeys, sessions, password); holder (the holder's sections);
# pro (a professional account's own pages: emergency access); record.* (one holder's record
# under /pro/dossier/<access_id>/, by section; record.agenda: appointments with the patient,
# under /agenda/dossier/<access_id>, for a professional account with a permanent access only);
# switch (the header's switch between one's own space and the spaces one acts in).
EXPECTED_TABLE = """
class             anonymous  holder     other_holder  code_in_scope  code_out_of_scope  code_expired  code_revoked  code_blocked  pro_grant  pro_emergency  pro_no_grant  helper_measures  helper_documents  helper_ended
public            OK         OK         OK            OK             OK                 OK            OK            OK            OK         OK             OK            OK               OK                OK
home              ANON       OK         OK            OK             OK                 ANON          ANON          ANON          OK         OK             OK            OK               OK                OK
account           ANON       OK         OWN           FORBIDDEN      FORBIDDEN          ANON          ANON          ANON          OWN        OWN            OWN           FORBIDDEN        FORBIDDEN         OWN
holder            ANON       OK         OWN           FORBIDDEN      FORBIDDEN          ANON          ANON          ANON          FORBIDDEN  FORBIDDEN      FORBIDDEN     SCOPE            SCOPE             OWN
pro               ANON       FORBIDDEN  FORBIDDEN     ANON           ANON               ANON          ANON          ANON          OK         OK             OK            FORBIDDEN        FORBIDDEN         FORBIDDEN
record            ANON       DENIED     DENIED        OK             OK                 GONE          GONE          GONE          OK         OK             NOT_FOUND     DENIED           DENIED            DENIED
record.documents  ANON       DENIED     DENIED        OK             OWN                GONE          GONE          GONE          OK         OK             NOT_FOUND     DENIED           DENIED            DENIED
record.deposit    ANON       DENIED     DENIED        OK             DENIED             GONE          GONE          GONE          OK         DENIED         NOT_FOUND     DENIED           DENIED            DENIED
record.summary    ANON       DENIED     DENIED        OK             DENIED             GONE          GONE          GONE          OK         OK             NOT_FOUND     DENIED           DENIED            DENIED
record.measures   ANON       DENIED     DENIED        OK             DENIED             GONE          GONE          GONE          OK         OK             NOT_FOUND     DENIED           DENIED            DENIED
record.agenda     ANON       DENIED     DENIED        DENIED         DENIED             GONE          GONE          GONE          OK         DENIED         NOT_FOUND     DENIED           DENIED            DENIED
feed              OK         OK         OK            OK             OK                 OK            OK            OK            OK         OK             OK            OK               OK                OK
messages          ANON       OK         OWN           ANON           ANON               ANON          ANON          ANON          OK         OWN            OWN           SCOPE            SCOPE             OWN
messages.holder   ANON       OK         OWN           ANON           ANON               ANON          ANON          ANON          DENIED     DENIED         DENIED        SCOPE            SCOPE             OWN
messages.pro      ANON       DENIED     OWN           ANON           ANON               ANON          ANON          ANON          OK         OWN            OWN           DENIED           DENIED            OWN
consent           ANON       BAD        BAD           FORBIDDEN      FORBIDDEN          ANON          ANON          ANON          FORBIDDEN  FORBIDDEN      FORBIDDEN     SCOPE            SCOPE             BAD
api               ANON       ANON       ANON          ANON           ANON               ANON          ANON          ANON          ANON       ANON           ANON          ANON             ANON              ANON
oauth             BAD        BAD        BAD           BAD            BAD                BAD           BAD           BAD           BAD        BAD            BAD           BAD              BAD               BAD
switch            ANON       OK         OK            FORBIDDEN      FORBIDDEN          ANON          ANON          ANON          FORBIDDEN  FORBIDDEN      FORBIDDEN     OK               OK                OK
"""
# What each viewer may read of the holder's documents: no answer to anyone else may carry
# these titles (lists, pages, fragments, file names).
TITLES = {"visible": "Ordonnance-visible-QX", "hidden": "Ordonnance-cachee-QX", "radio": "Radio-thorax-QX"}
SEES = {
    "holder": {"visible", "hidden", "radio"},
    "code_in_scope": {"visible", "radio"},
    "code_out_of_scope": {"radio"},
    "pro_grant": {"visible", "radio"},
    "pro_emergency": {"visible", "radio"},
    "helper_documents": {"visible", "radio"},  # never the hidden one: their delegation does not allow it
}
# Record pages are also asked with an access id that is someone else's (every professional:
# NOT_FOUND) and, where a document is named, with a document the holder hid (what was OK or
# OWN becomes NOT_FOUND).

# --------------------------------------------------------------------------- which rule is what
# By endpoint first, then by blueprint. Record pages are the `pro` blueprint's rules that take
# an <access_id>: each names the record section it opens in RECORD_SECTIONS.
ENDPOINT_CLASSES = {
    "static": "public",
    "auth.login": "public",
    "auth.login_code": "public",
    "auth.activate": "public",
    "auth.activate_password": "public",
    "auth.set_language": "public",
    "auth.passkey_options": "public",
    "auth.passkey_login": "public",
    "auth.logout": "public",
    "auth.session_status": "public",
    "auth.new_letter": "public",
    "auth.unlock": "public",
    "dashboard.accessibility": "public",
    "dashboard.service_worker": "public",
    "dashboard.manifest": "public",
    "demo.outbox": "public",  # demo mode (the tests run in it); 404 outside it
    "dashboard.index": "home",  # the holder's home, the professional's, or a code session's record
    "pro.access": "public",  # typing a code
    "pro.end": "public",  # ending a code session
    "kiosk.enrol": "public",  # the operator's one-time link, opened on the kiosk
    "kiosk.welcome": "public",  # a kiosk's welcome screen (elsewhere: to the login page)
    "kiosk.new_code": "public",  # a kiosk's QR code
    "kiosk.waiting": "public",  # the kiosk waiting for the phone's approval
    "kiosk.present": "public",  # "I am here": keeps whatever session this is alive
    "pro.emergency": "pro",  # "bris de glace": professionals with an account
    "agenda.feed": "feed",  # a calendar app, no session: the token in the URL opens the holder's appointments
    "messaging.refuse": "messages.holder",
    "messaging.block": "messages.holder",
    "messaging.attachment_save": "messages.holder",
    "messaging.close": "messages.pro",
    "fhir.metadata": "public",  # the CapabilityStatement
    "apps.smart_configuration": "public",  # SMART discovery
    "apps.jwks": "public",  # the public key of id_tokens
    "apps.authorize": "consent",  # with no OAuth request: refused once the gate let the holder in
    "apps.token": "oauth",
    "apps.revoke": "oauth",
    "apps.introspect": "oauth",
    "lifecycle.oppose": "public",  # objecting with the letter's code, without an account
    "lifecycle.closed": "public",  # where closing one's space leads
    "lifecycle.opposed": "public",  # the receipt of an objection, shown once
    "lifecycle.switch": "switch",  # a guardian or a helper switching to another's space and back
}
BLUEPRINT_CLASSES = {
    "account": "account",  # a person's own passkeys, sessions, password: holders and professional accounts
    "dashboard": "holder",
    "documents": "holder",
    "history": "holder",
    "profile": "holder",
    "measures": "holder",
    "reimbursements": "holder",  # never a professional's, whatever the grant (DOMAIN.md)
    "sharing": "holder",
    "agenda": "holder",
    "apps": "holder",  # the catalogue, a connection, the consent screen
    "fhir": "api",  # bearer tokens only: tests/security/test_app_viewers.py runs apps of each scope
    "lifecycle": "holder",  # closing one's space
    "export": "holder",  # taking everything with you (a guardian in a child's space too)
    "helpers": "holder",  # naming helpers; answering an invitation to help someone
    "pro": "pro",
    "kiosk": "account",
    "card": "holder",  # approving a kiosk's QR code from one's own phone: any person with an account
    "messaging": "messages",
}
RECORD_SECTIONS = {
    "pro.record": "record",
    "pro.record_documents": "record.documents",
    "pro.record_document": "record.documents",
    "pro.record_preview": "record.documents",
    "pro.record_download": "record.documents",
    "pro.record_fullscreen": "record.documents",
    "pro.record_page_image": "record.documents",
    "pro.record_deposit": "record.deposit",
    "pro.record_summary": "record.summary",
    "pro.record_summary_pdf": "record.summary",
    "pro.record_measures": "record.measures",
    "pro.record_measure": "record.measures",
    "pro.record_chart": "record.measures",
    "agenda.record_agenda": "record.agenda",
    "agenda.record_propose": "record.agenda",
    "agenda.record_confirm": "record.agenda",
    "agenda.record_repropose": "record.agenda",
    "agenda.record_cancel": "record.agenda",
}

# --------------------------------------------------------------------------- URL parameters
# "endpoint:name", then "blueprint.*:name", then "name". Obj(...) is an object of the first
# holder (the URL then "names the holder's object"); a plain string is used as it is.


@dataclass(frozen=True)
class Obj:
    attr: str


ACCESS = object()  # the viewer's own access id (share, grant, emergency access)
FEED_TOKEN = "feed-token-of-the-first-holder-" + "f" * 32  # the holder's calendar feed (made in _objects)
PARAMS = {
    "cid": Obj("credential_id"),
    "sid": Obj("other_session_id"),
    "doc_id": Obj("document_id"),
    "measure_id": Obj("measure_id"),
    "item_id": Obj("allergy_id"),
    "reimbursements.*:import_id": Obj("reimbursement_import_id"),
    "import_id": Obj("import_id"),
    "reimbursement_id": Obj("reimbursement_id"),
    "reimbursements.year:year": "2026",
    "share_id": Obj("share_id"),
    "grant_id": Obj("grant_id"),
    "block_id": Obj("block_id"),
    "note_id": Obj("notification_id"),
    "appt_id": Obj("appointment_id"),
    "agenda.feed:token": FEED_TOKEN,
    "thread_id": Obj("thread_id"),
    "att_id": Obj("attachment_id"),
    "measures.*:slug": "poids",
    "profile.block_edit:slug": "groupe-sanguin",
    "profile.*:slug": "allergies",
    "pro.*:slug": "poids",
    "lang": "fr",
    "token": "0" * 64,  # an unlock link that was never sent
    "filename": "css/app.css",
    "access_id": ACCESS,
    "number": "1",  # a page of a PDF (documents.page_image, pro.record_page_image)
    "fhir.*:rid": Obj("measure_id"),  # any id: no cookie opens the API
    "app_id": Obj("app_id"),
    "job_id": Obj("export_id"),
    "helpers.answer:delegation_id": Obj("invitation_id"),  # another holder's invitation to the holder
    "delegation_id": Obj("delegation_id"),  # an invitation of the holder that no viewer uses
    "answer": "accepter",
}
# Form fields sent with a write: what it needs to reach its access check at all, or to really
# change something when allowed (a callable makes the value from the world: a fresh file).
# Other writes go with the CSRF token alone and meet their form's validation: 400/422.
FORMS = {
    "sharing.grant_add": {"professional_id": Obj("free_professional_id")},
    "pro.record_deposit": {
        "category": "CPT_REND",
        "act_date": "2026-03-12",
        "title": "Compte rendu",
        "files": lambda w: (io.BytesIO(_png()), "compte-rendu.png"),
    },
}
# Endpoints that answer a URL naming someone else's object with their usual page, having done
# nothing (the no-change check still holds them).
# A referenced app is in everyone's catalogue: another holder sees its page, and changing or
# ending a connection to it touches only their own connection (none here).
SILENT_ON_FOREIGN: set[str] = {"apps.show", "apps.disconnect", "apps.change"}
# Record reads that a trace of the same read by the same session, shortly before, covers (one
# trace per view, not per image: blueprints/pro/record_routes.py); every other 2xx answer of a
# record page to a non-holder must add a trace of its own (tests/security/test_record_traces.py
# walks them from fresh sessions).
COVERED_BY_RECENT_TRACE = {
    "pro.record_chart": lambda t, url: (
        t.detail.get("page") in ("measure", "measure_chart") and t.detail.get("kind") == "weight"
    ),  # poids
    "pro.record_page_image": lambda t, url: t.action == "document_opened" and f"/documents/{t.target_id}/" in url,
}
LOGIN_PATHS = ("/connexion", "/pro/acces")
OUTCOMES = {"OK", "OWN", "FORBIDDEN", "DENIED", "NOT_FOUND", "ANON", "GONE", "BAD", "SCOPE"}


def _expected_table() -> dict:
    lines = [line.split() for line in EXPECTED_TABLE.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert tuple(header[1:]) == VIEWERS, "EXPECTED_TABLE columns must be VIEWERS, in order"
    table = {row[0]: dict(zip(header[1:], row[1:], strict=True)) for row in rows}
    assert all(o in OUTCOMES for r in table.values() for o in r.values())
    return table


EXPECTED = _expected_table()

# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    rule: str
    endpoint: str
    method: str
    params: tuple
    viewer: str
    variant: str = "own"  # own | foreign (record: someone else's access id) | hidden (a hidden document)

    @property
    def blueprint(self) -> str:
        return self.endpoint.split(".")[0] if "." in self.endpoint else ""

    def __str__(self):
        extra = "" if self.variant == "own" else f" ({self.variant})"
        return f"{self.method} {self.rule} [{self.endpoint}] as {self.viewer}{extra}"


def classify(endpoint: str, params) -> str:
    """The rule's class, or AssertionError saying what to add."""
    blueprint = endpoint.split(".")[0] if "." in endpoint else ""
    if (blueprint == "pro" or endpoint in RECORD_SECTIONS) and "access_id" in params:
        section = RECORD_SECTIONS.get(endpoint)
        assert section in EXPECTED, (
            f"record page {endpoint} is in no record section: add it to RECORD_SECTIONS "
            f"(one of {sorted(k for k in EXPECTED if k.startswith('record'))})"
        )
        return section
    if endpoint in ENDPOINT_CLASSES:
        return ENDPOINT_CLASSES[endpoint]
    assert blueprint in BLUEPRINT_CLASSES, (
        f"{endpoint} is in no class: add its blueprint to BLUEPRINT_CLASSES or the endpoint to "
        f"ENDPOINT_CLASSES (one of {sorted(EXPECTED)})"
    )
    return BLUEPRINT_CLASSES[blueprint]


def _throwaway_app():
    """An app whose database is never touched: its rules and views are what the cases are made of."""

    return create_app(
        {
            "ENV_NAME": "test",
            "TESTING": True,
            "DATABASE_URL": "sqlite://",
            "DEMO": True,
            "SECRET_KEY": "collect-" + "x" * 40,
            "CODE_PEPPER": "collect-" + "y" * 40,
            "SERVER_NAME": None,
        }
    )


def _rules():
    """The rules of a throwaway app (no database touched): what the cases are made of."""
    app = _throwaway_app()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.rule, rule.endpoint, method, tuple(sorted(rule.arguments))


def _cases():
    cases = []
    for rule, endpoint, method, params in _rules():
        for viewer in VIEWERS:
            cases.append(Case(rule, endpoint, method, params, viewer))
            if "access_id" in params and (endpoint.startswith("pro.") or endpoint in RECORD_SECTIONS):
                cases.append(Case(rule, endpoint, method, params, viewer, "foreign"))
                if "doc_id" in params:
                    cases.append(Case(rule, endpoint, method, params, viewer, "hidden"))
    return cases


CASES = _cases()


def expected(case: Case) -> str:
    cls = classify(case.endpoint, case.params)
    outcome = EXPECTED[cls][case.viewer]
    if outcome == "SCOPE":
        return "OK" if _helper_may(case.viewer, case.endpoint) else "FORBIDDEN"
    pro = case.viewer in CODE_VIEWERS or case.viewer in PRO_ACCOUNTS
    if case.variant == "foreign" and pro and outcome not in ("ANON", "GONE"):
        return "NOT_FOUND"
    if case.variant == "hidden" and outcome in ("OK", "OWN"):
        return "NOT_FOUND"
    return outcome


def _helper_may(viewer: str, endpoint: str) -> bool:
    """Whether the rights of this helper's scope open the gate of this route."""

    gate = _gates()[endpoint][0]
    sections = (gate.section,) if isinstance(gate.section, str) else gate.section
    rights = access.helper_rights(HELPER_SCOPES[viewer])
    return any(gate.action in rights.get(section, ()) for section in sections)


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    # people: made and logged in once (an account costs a password hash and a login)
    accounts: dict = field(default_factory=dict)  # viewer -> Account (holders, professionals)
    holder_patient_id: str = ""
    holder_account_id: str = ""
    professional_ids: dict = field(default_factory=dict)  # viewer -> Professional id
    clients: dict = field(default_factory=dict)  # viewer -> test client
    sessions: dict = field(default_factory=dict)  # viewer -> UserSession id
    tokens: dict = field(default_factory=dict)  # viewer -> CSRF token
    # the first holder's objects: made again whenever a case changed one of them
    credential_id: str = ""
    other_session_id: str = ""
    document_id: str = ""
    hidden_document_id: str = ""
    measure_id: str = ""
    allergy_id: str = ""
    import_id: str = ""
    export_id: str = ""
    reimbursement_id: str = ""
    reimbursement_import_id: str = ""
    notification_id: str = ""
    appointment_id: str = ""  # proposed by pro_grant, answered with another time (countered)
    thread_id: str = ""  # the holder's conversation with pro_grant
    attachment_id: str = ""  # a photo pro_grant sent in it
    app_id: str = ""  # a referenced app the holder connected
    share_id: str = ""  # a live share of the holder that no viewer uses
    grant_id: str = ""
    block_id: str = ""
    free_professional_id: str = ""  # the professional with an account and no access
    delegation_id: str = ""  # an invitation of the holder to an email with no account
    invitation_id: str = ""  # the other holder's invitation to the holder, waiting for an answer
    access: dict = field(default_factory=dict)  # viewer -> their access id (share, grant, emergency)
    uses: dict = field(default_factory=dict)  # code viewer -> ShareUse id
    baseline: tuple = ()
    dirty: bool = False  # a case changed the holder's objects: make them again
    verified: bool = False  # the last case checked the world after its request
    lost: list = field(default_factory=list)  # viewers to connect again


_WORLD: dict = {}
_SERIAL = iter(range(1, 10**6))


def _png() -> bytes:

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _empty_database(app) -> None:
    forget_anchors(app)
    with app.app_context(), db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


def _people(app, make_holder, make_pro) -> World:
    clock.reset()
    _empty_database(app)
    w = World()
    holder, _ = make_holder()
    other, _ = make_holder()
    w.accounts = {
        "holder": holder,
        "other_holder": other,
        **{v: make_pro() for v in PRO_ACCOUNTS},
        **{v: make_holder()[0] for v in HELPER_SCOPES},
    }
    with app.app_context():
        w.professional_ids = {v: db.session.merge(w.accounts[v]).professional_id for v in PRO_ACCOUNTS}
    w.holder_patient_id, w.holder_account_id = holder.patient_id, holder.id
    return w


def _objects(app, w: World) -> None:
    """The first holder's objects and accesses, new ones each time (earlier ones may stay: every
    value that must be unique is fresh). The holder's emergency settings go back to the defaults,
    and the holder refuses new conversations from nobody and blocks no professional account."""
    from core.grants import (
        Block,
        Delegation,
        EmergencyAccess,
        EmergencySettings,
        Grant,
        MessageRefusal,
        Share,
        ShareUse,
        code_hash,
        link_hash,
        new_share_secrets,
    )

    n = next(_SERIAL)
    now = clock.utcnow()
    p = w.holder_patient_id
    with app.test_request_context(method="POST"):
        # Back to a holder with default emergency settings, and no access for the professional without one.
        db.session.execute(EmergencySettings.__table__.delete().where(EmergencySettings.patient_id == p))
        db.session.execute(MessageRefusal.__table__.delete().where(MessageRefusal.patient_id == p))
        pro_rpps = select(Professional.rpps).where(Professional.id.in_(list(w.professional_ids.values())))
        db.session.execute(Block.__table__.delete().where(Block.patient_id == p, Block.rpps.in_(pro_rpps)))
        db.session.execute(
            update(Grant)
            .where(
                Grant.patient_id == p,
                Grant.ended_at.is_(None),
                Grant.professional_id == w.professional_ids["pro_no_grant"],
            )
            .values(ended_at=now)
        )
        viewer = access.viewer_for(db.session.get(Account, w.holder_account_id))

        def add_doc(title, category, hidden=False, pdf=True):
            # PDFs (their pages are images drawn on the server, a route of their own) and a photo.
            upload = (
                documents.Upload(io.BytesIO(multipage_pdf(1)), f"{title}.pdf")
                if pdf
                else documents.Upload(io.BytesIO(_png()), f"{title}.png")
            )
            doc = documents.add_documents(viewer, [upload], category=category, act_date=date(2026, 3, 12), title=title)[
                0
            ]
            if hidden:
                documents.set_hidden(viewer, [doc.id], True)
            return doc.id

        w.document_id = add_doc(TITLES["visible"], "ORD_SOIN")
        w.hidden_document_id = add_doc(TITLES["hidden"], "ORD_SOIN", hidden=True)
        add_doc(TITLES["radio"], "RADIO_SC", pdf=False)  # what the out-of-scope code does see
        weight = kinds.KINDS["weight"]
        m = Measure(
            patient_id=p,
            kind=weight.key,
            taken_at=1_760_000_000 + 60 * n,
            utc_offset=60,
            value=72.4,
            source="manual",
            dedup=kinds.dedup_key(weight, 72.4),
        )
        allergy = Allergy(patient_id=p, substance="Pénicilline", severity="severe")
        imp = MeasureImport(patient_id=p, format="csv", filename="mesures.csv", status="done")
        remb_imp = MeasureImport(patient_id=p, format="releve", filename="releve.csv", status="done")
        remb = Reimbursement(
            patient_id=p,
            reference=f"REF-{n}",
            source="releve",
            care_date=date(2026, 3, 2),
            nature="consultation",
            charged=3000,
            base=3000,
            rate=70,
            amo=1900,
            participation=200,
            amc=900,
            remainder=200,
            digest="0" * 40,
        )
        cred = Credential(
            account_id=w.holder_account_id, credential_id=os.urandom(16), public_key=b"k", name="Téléphone"
        )
        other_session = UserSession(
            token_hash=os.urandom(32).hex(), account_id=w.holder_account_id, authenticated_at=now
        )
        app.config["EXPORT_THREADS"] = False  # an export asked for here is not run
        zipped = blobs.put(io.BytesIO(b"PK\x05\x06" + bytes(18)), p)  # an empty zip, ready to download
        export = SpaceExport(
            patient_id=p,
            status="done",
            base_url="http://localhost",
            blob_id=zipped.blob_id,
            size=zipped.size,
            finished_at=clock.utcnow(),
            expires_at=clock.utcnow() + timedelta(days=7),
        )
        db.session.add_all([m, allergy, imp, remb_imp, remb, cred, other_session, export])

        def share(scope, *, deposit=False, expires=timedelta(days=1), revoked=False):
            code, prefix, token = new_share_secrets()
            s = Share(
                patient_id=p,
                prefix=prefix,
                code_hash=code_hash(code),
                link_hash=link_hash(token),
                scope=scope,
                can_deposit=deposit,
                label="Dr Durand",
                expires_at=now + expires,
                revoked_at=now if revoked else None,
            )
            db.session.add(s)
            db.session.flush()
            use = ShareUse(
                share_id=s.id,
                patient_id=p,
                given_name="Paul",
                family_name="Durand",
                profession="medecin",
                rpps=f"9{n:05d}{next(_SERIAL):05d}",
            )
            db.session.add(use)
            db.session.flush()
            return s.id, use

        full = {"documents": "all", "summary": True, "measures": True}
        uses = {
            "code_in_scope": share(full, deposit=True),
            "code_out_of_scope": share(
                {"documents": "categories", "categories": ["RADIO_SC"], "summary": False, "measures": False}
            ),
            "code_expired": share(full, expires=-timedelta(hours=1)),
            "code_revoked": share(full, revoked=True),
            "code_blocked": share(full),
        }
        spare_share, _use = share({"documents": "all", "summary": False, "measures": False})
        block = Block(patient_id=p, rpps=uses["code_blocked"][1].rpps, name="Paul Durand")
        grant = Grant(patient_id=p, professional_id=w.professional_ids["pro_grant"])
        emergency = EmergencyAccess(
            patient_id=p,
            professional_id=w.professional_ids["pro_emergency"],
            samu=False,
            reason="Patient inconscient aux urgences",
            expires_at=now + timedelta(hours=12),
        )
        note = notify.Notification(
            patient_id=p,
            kind="access",
            grant_id=uses["code_in_scope"][0],
            actor_name="Paul Durand",
            actor_rpps=uses["code_in_scope"][1].rpps,
            actor_profession="medecin",
        )
        appointment = Appointment(
            patient_id=p,
            professional_id=w.professional_ids["pro_grant"],
            with_name="Dr Bernard",
            starts_at=now + timedelta(days=7),
            counter_starts_at=now + timedelta(days=8),
            status="countered",
            proposed_by="professional",
            reason="Suivi",
        )
        feed = db.session.get(AgendaSettings, p) or AgendaSettings(patient_id=p)
        with app.test_request_context(method="POST"):
            feed.feed_hash = ical._hash(FEED_TOKEN)
        db.session.add_all([block, grant, emergency, note, appointment, feed])
        db.session.commit()
        w.appointment_id = appointment.id
        db.session.add_all([block, grant, emergency, note])
        referenced, _secret = apps.register(
            name=f"Balance {n}",
            publisher="Éditeur",
            description="",
            purpose_keys=["measures_write"],
            redirect_uris=["http://localhost:8765/callback"],
            referenced_on=date(2026, 11, 1),
        )
        apps.connect(viewer, referenced, ["measures_write"], "1y")
        db.session.commit()
        w.app_id = referenced.id
        w.credential_id, w.other_session_id = cred.id, other_session.id
        w.measure_id, w.allergy_id, w.import_id, w.notification_id = m.id, allergy.id, imp.id, note.id
        w.export_id = export.id
        w.reimbursement_id, w.reimbursement_import_id = remb.id, remb_imp.id
        w.share_id, w.grant_id, w.block_id = spare_share, grant.id, block.id
        w.free_professional_id = w.professional_ids["pro_no_grant"]
        pro = access.viewer_for(db.session.get(Account, w.accounts["pro_grant"].id))
        thread = messaging.start_thread(
            pro,
            p,
            subject="Résultats",
            body="Bonjour",
            uploads=[documents.Upload(io.BytesIO(_png()), "photo.png")],
        )
        db.session.commit()
        w.thread_id = thread.id
        w.attachment_id = db.session.scalar(
            select(Attachment.id)
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.thread_id == thread.id)
        )
        # The helpers' delegations (the last one ended), a spare invitation, and another holder's
        # invitation to the holder: made again, as they were.
        db.session.execute(Delegation.__table__.delete().where(Delegation.patient_id == p))
        other_id = w.accounts["other_holder"].patient_id
        db.session.execute(Delegation.__table__.delete().where(Delegation.helper_patient_id == p))
        today = clock.paris_today()
        dated = {"starts_on": today - timedelta(days=1), "ends_on": today + timedelta(days=30)}
        for v, scopes in HELPER_SCOPES.items():
            ended = v == "helper_ended"
            db.session.add(
                Delegation(
                    patient_id=p,
                    helper_patient_id=w.accounts[v].patient_id,
                    email=w.accounts[v].email,
                    scopes=list(scopes),
                    status="ended" if ended else "accepted",
                    answered_at=now,
                    ended_at=now if ended else None,
                    ended_by="holder" if ended else None,
                    **dated,
                )
            )
        spare = Delegation(patient_id=p, email=f"aidant{n}@example.fr", scopes=["measures"], **dated)
        invitation = Delegation(
            patient_id=other_id, helper_patient_id=p, email=f"x{n}@example.fr", scopes=["agenda"], **dated
        )
        db.session.add_all([spare, invitation])
        db.session.commit()
        w.delegation_id, w.invitation_id = spare.id, invitation.id
        w.access = {v: share_id for v, (share_id, _use) in uses.items()}
        w.access.update(pro_grant=grant.id, pro_emergency=emergency.id)
        w.uses = {v: use.id for v, (_share, use) in uses.items()}


def _session_id(app, client):

    cookie = client.get_cookie(app.session_interface.get_cookie_name(app))
    assert cookie is not None, "no session cookie"
    with app.app_context():
        return db.session.scalar(
            select(UserSession.id).where(UserSession.token_hash == hashlib.sha256(cookie.value.encode()).hexdigest())
        )


def _csrf(client, viewer: str) -> str:
    """A valid CSRF token for this client's session, from a page that shows one."""
    for path in ("/connexion", "/compte", "/documents"):
        match = re.search(r'"X-CSRFToken": "([^"]+)"', client.get(path).get_data(as_text=True))
        if match:
            return match.group(1)
    raise AssertionError(f"no page shows a CSRF token to {viewer}")


def _connect(app, w: World, viewer: str, login_as) -> None:
    """A fresh client for this viewer: logged in, holding a code session, or nobody."""
    client = app.test_client()
    if viewer in w.accounts:
        login_as(client, w.accounts[viewer])
    elif viewer in CODE_VIEWERS:
        with client.session_transaction() as s:
            s["share_use"] = w.uses[viewer]
    w.tokens[viewer] = _csrf(client, viewer)
    _act_as_helper(client, w, viewer)
    w.clients[viewer] = client
    w.sessions[viewer] = _session_id(app, client)


def _act_as_helper(client, w: World, viewer: str) -> None:
    """A helper's session in the first holder's space (the header's switch, as they left it)."""

    if viewer in HELPER_SCOPES:
        with client.session_transaction() as s:
            s[SPACE_KEY] = w.holder_patient_id


def _lost_sessions(w: World) -> list:
    """Viewers whose session a case ended (a logout...) or emptied (an ended code session)."""

    live = dict(
        db.session.execute(
            select(UserSession.id, UserSession.data).where(
                UserSession.id.in_([s for s in w.sessions.values() if s]), UserSession.ended_at.is_(None)
            )
        ).all()
    )
    return [
        v
        for v in VIEWERS
        if w.sessions.get(v) not in live
        or (v in CODE_VIEWERS and (live[w.sessions[v]] or {}).get("share_use") != w.uses[v])
    ]


def _fingerprint(w: World) -> tuple:
    """The state of the first holder's objects, as the rules protect them (traces and
    notifications of new accesses are not in it: professionals' visits add them)."""

    p = w.holder_patient_id
    queries = {
        "account": select(Account.id, Account.email, Account.password_hash, Account.active).where(
            Account.id == w.holder_account_id
        ),
        "documents": select(Document.id, Document.title, Document.category, Document.hidden, Document.note).where(
            Document.patient_id == p
        ),
        "measures": select(Measure.id, Measure.value, Measure.taken_at).where(Measure.patient_id == p),
        "allergies": select(Allergy.id, Allergy.substance).where(Allergy.patient_id == p),
        "reimbursements": select(Reimbursement.id, Reimbursement.document_id, Reimbursement.amo).where(
            Reimbursement.patient_id == p
        ),
        "measure imports": select(MeasureImport.id, MeasureImport.status).where(MeasureImport.patient_id == p),
        "passkeys": select(Credential.id, Credential.name).where(Credential.account_id == w.holder_account_id),
        "other session": select(UserSession.id, UserSession.ended_at).where(UserSession.id == w.other_session_id),
        "shares": select(Share.id, Share.revoked_at, Share.locked_at, Share.expires_at, Share.can_deposit).where(
            Share.patient_id == p
        ),
        "grants": select(Grant.id, Grant.ended_at).where(Grant.patient_id == p),
        "blocks": select(Block.id, Block.rpps).where(Block.patient_id == p),
        "emergency accesses": select(EmergencyAccess.id, EmergencyAccess.expires_at).where(
            EmergencyAccess.patient_id == p
        ),
        "emergency settings": select(
            EmergencySettings.allow_samu, EmergencySettings.allow_others, EmergencySettings.allow_hidden
        ).where(EmergencySettings.patient_id == p),
        "notification": select(Notification.id, Notification.read_at, Notification.flagged_at).where(
            Notification.id == w.notification_id
        ),
        "appointments": select(
            Appointment.id, Appointment.status, Appointment.starts_at, Appointment.reminder_minutes
        ).where(Appointment.patient_id == p),
        "prevention marks": select(PreventionMark.item, PreventionMark.status).where(PreventionMark.patient_id == p),
        "agenda settings": select(
            AgendaSettings.prevention_off, AgendaSettings.feed_hash, AgendaSettings.feed_details
        ).where(AgendaSettings.patient_id == p),
        "threads": select(
            Thread.id, Thread.subject, Thread.closed_at, Thread.holder_archived, Thread.pro_archived
        ).where(Thread.patient_id == p),
        "messages": select(Message.id).where(Message.patient_id == p),
        "message refusals": select(MessageRefusal.id).where(MessageRefusal.patient_id == p),
        "delegations": select(
            Delegation.id, Delegation.status, Delegation.scopes, Delegation.include_hidden, Delegation.ended_at
        ).where((Delegation.patient_id == p) | (Delegation.helper_patient_id == p)),
    }
    return tuple(
        (name, tuple(sorted(tuple(str(v) for v in row) for row in db.session.execute(q))))
        for name, q in queries.items()
    )


def _state(app, w: World) -> tuple[tuple, list]:
    """(fingerprint, viewers whose session was lost), read in one read-only transaction."""

    with app.app_context():
        start_request("GET")
        try:
            return _fingerprint(w), _lost_sessions(w)
        finally:
            end_request()


@pytest.fixture(autouse=True)
def _clean():
    """This module empties the database once and keeps its objects from case to case (the
    suite's per-test cleaning would make them again for each of 1,500 cases)."""
    yield


@pytest.fixture
def world(app, make_holder, make_pro, login_as) -> World:
    """The world as the last case left it when that case checked it (the usual path), else
    checked here: objects made again if a case changed them, everything if the holder is gone."""
    w = _WORLD.get("w")
    if w is not None and not w.verified:
        fingerprint, _lost = _state(app, w)
        if not fingerprint[0][1]:  # the holder is gone: another test emptied the database
            w = None
        elif w.dirty or fingerprint != w.baseline:
            _objects(app, w)
    if w is None:
        w = _WORLD["w"] = _people(app, make_holder, make_pro)
        _objects(app, w)
    if not w.verified:
        w.baseline, w.lost = _state(app, w)
    for viewer in w.lost:  # a logout, new code sessions, an ended code session...
        _connect(app, w, viewer, login_as)
    w.verified, w.dirty, w.lost = False, False, []
    yield w


# --------------------------------------------------------------------------- the test


def _url(case: Case, w: World) -> tuple[str, bool]:
    """(URL with real values, whether it names one of the first holder's objects)."""
    names_object = False
    values = {}
    for name in case.params:
        for key in (f"{case.endpoint}:{name}", f"{case.blueprint}.*:{name}", name):
            if key in PARAMS:
                value = PARAMS[key]
                break
        else:
            pytest.fail(
                f"{case}: no value for the URL parameter <{name}>: add one to PARAMS "
                f"(an Obj(...) of the holder's objects, made in _objects, or a fixed string)"
            )
        if value is ACCESS:
            other = "pro_emergency" if case.viewer == "pro_grant" else "pro_grant"
            value = w.access.get(other if case.variant == "foreign" else case.viewer, w.access["code_in_scope"])
        elif isinstance(value, Obj):
            attr = value.attr
            if case.variant == "hidden" and attr == "document_id":
                attr = "hidden_document_id"
            value = getattr(w, attr)
            names_object = True
        values[name] = value
    url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(values[m.group(1)]), case.rule)
    return url, names_object


def _login_redirect(r) -> bool:
    return r.status_code in (301, 302, 303, 307, 308) and urlsplit(r.headers.get("Location", "")).path in LOGIN_PATHS


def _allowed(r, method: str, public: bool = False) -> bool:
    if _login_redirect(r) and not public:
        return False
    return r.status_code < 400 or (method != "GET" and r.status_code in (400, 422))


def _check(outcome: str, r, case: Case, names_object: bool) -> bool:
    code = r.status_code
    public = classify(case.endpoint, case.params) == "public"
    if outcome == "OWN":
        if not names_object:
            outcome = "OK"
        elif case.endpoint in SILENT_ON_FOREIGN and _allowed(r, case.method):
            return True
        else:
            outcome = "NOT_FOUND"
    return {
        "OK": lambda: _allowed(r, case.method, public),
        "FORBIDDEN": lambda: code == 403,
        "DENIED": lambda: code in (403, 404),
        "NOT_FOUND": lambda: code == 404,
        "ANON": lambda: code == 401 or _login_redirect(r),
        "GONE": lambda: code in (401, 404) or _login_redirect(r),
        "BAD": lambda: code in (400, 401),
    }[outcome]()


def _last_trace_id(app) -> int:

    with app.app_context():
        return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def _untraced(app, case: Case, w: World, since: int, url: str) -> str | None:
    """Why this 2xx record answer to a non-holder is not traced for its viewer, or None."""

    access_id = w.access[case.viewer]
    with app.app_context():
        traces = db.session.execute(
            select(
                AuditEvent.id,
                AuditEvent.at,
                AuditEvent.actor_type,
                AuditEvent.action,
                AuditEvent.target_id,
                AuditEvent.detail,
            ).where(AuditEvent.grant_id == access_id, AuditEvent.patient_id == w.holder_patient_id)
        ).all()
    if any(t.id > since and t.actor_type != "holder" for t in traces):
        return None
    covers = COVERED_BY_RECENT_TRACE.get(case.endpoint)
    window = clock.utcnow() - timedelta(minutes=CHART_TRACE_MINUTES)
    if covers and any(covers(t, url) and t.at >= window for t in traces):
        return None
    return f"no trace of {case.viewer} through {access_id}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_access_matrix(app, world, case):
    outcome = expected(case)  # fails here when the rule is in no class
    url, names_object = _url(case, world)
    reads_record = (
        case.method == "GET"
        and case.viewer != "holder"
        and case.viewer in world.access
        and classify(case.endpoint, case.params).startswith("record")
    )
    since = _last_trace_id(app) if reads_record else 0
    client = world.clients[case.viewer]
    _act_as_helper(client, world, case.viewer)  # an ended delegation sent the last one home
    kwargs = {}
    if case.method != "GET":
        token = world.tokens[case.viewer]
        form = {
            k: getattr(world, v.attr) if isinstance(v, Obj) else v(world) if callable(v) else v
            for k, v in FORMS.get(case.endpoint, {}).items()
        }
        kwargs = {"data": {**form, "csrf_token": token}, "headers": {"X-CSRFToken": token}}
    r = client.open(url, method=case.method, **kwargs)
    where = f"{case.method} {url}"
    got = f"{r.status_code} {r.headers.get('Location', '')}".strip()
    assert r.status_code < 500, f"{case}: {where} failed with {got}"
    assert _check(outcome, r, case, names_object), f"{case}: expected {outcome}, got {got} ({where})"
    answer = r.get_data().decode("utf-8", "replace") + str(r.headers)
    leaked = [k for k, title in TITLES.items() if k not in SEES.get(case.viewer, ()) and title in answer]
    assert not leaked, f"{case}: the answer shows documents this viewer may not see: {leaked} ({where})"
    if reads_record and 200 <= r.status_code < 300:
        missing = _untraced(app, case, world, since, url)
        assert missing is None, f"{case}: the record answered {r.status_code} and {missing} ({where})"
    after, world.lost = _state(app, world)
    world.verified = True
    if after != world.baseline:
        world.dirty, world.verified = True, False
        cls = classify(case.endpoint, case.params)
        allowed_to_change = outcome == "OK" and (
            case.viewer in ("holder", "helper_measures", "helper_documents")
            or cls.startswith("record")
            or (cls.startswith("messages") and case.viewer == "pro_grant")
        )
        changed = [name for (name, rows), (_n, before) in zip(after, world.baseline) if rows != before]
        assert allowed_to_change, f"{case}: refused, yet the holder's data changed: {changed} ({where})"


def test_every_rule_is_walked(app):
    """The cases were made from the same rules the app serves, each method with every viewer."""
    served = {(r.rule, r.endpoint, m) for r in app.url_map.iter_rules() for m in r.methods - {"HEAD", "OPTIONS"}}
    walked = {(c.rule, c.endpoint, c.method) for c in CASES}
    assert served == walked
    assert {c.viewer for c in CASES} == set(VIEWERS)


# --------------------------------------------------------------------------- one visible gate per route
# Every view carries @web.gate(section, action) (core/web.py), except these, each with its reason
# ("blueprint.*": every view of that blueprint). They are the public class, nothing else.
UNGATED = {
    "static": "CSS, scripts, icons: no data",
    "auth.*": "the ways in (log in, activate, unlock, language, session state): before anyone is known",
    "dashboard.accessibility": "the accessibility statement, public by law",
    "dashboard.service_worker": "the service worker script, served from the root for its scope",
    "dashboard.manifest": "the web app manifest",
    "demo.outbox": "demo mode only (404 otherwise): the fictitious mails the demo sent",
    "pro.access": "typing a code: before anyone is known",
    "pro.end": "ending a code session: whoever holds one, even one that already ended",
    "kiosk.enrol": "a kiosk's one-time registration link: before anyone is known",
    "kiosk.welcome": "a kiosk's welcome screen: before anyone is known",
    "kiosk.new_code": "a kiosk's QR code: before anyone is known",
    "kiosk.waiting": "a kiosk waiting for the phone's approval: before anyone is known",
    "kiosk.present": "keeps the current session alive; answers nothing",
    "fhir.metadata": "the CapabilityStatement: public in FHIR, no data",
    "apps.smart_configuration": "SMART discovery: public, no data",
    "apps.jwks": "the public key that checks id_tokens: public, no data",
    "apps.token": "OAuth: the client authenticates itself (or proves PKCE), no cookie is read",
    "apps.revoke": "OAuth: the client authenticates itself, no cookie is read",
    "apps.introspect": "OAuth: the client authenticates itself, no cookie is read",
    "lifecycle.oppose": "objecting with the letter's code: without an account, before anyone is known",
    "lifecycle.closed": "where closing one's space leads, once logged out: no data",
    "lifecycle.opposed": "the receipt of the objection just made, from this browser's session only",
}
UNGATED_CLASSES = ("public", "oauth")
# What the gate of each class names: (section, action, mode); "holder" pages name their own
# blueprint's section, with the action they need.
CLASS_GATES = {
    "home": (("dashboard", "pro"), "read", "own"),
    "pro": ("pro", "emergency", "account"),
    "record": ("pro", "read", "record"),
    "record.documents": ("record.documents", "read", "record"),
    "record.deposit": ("record.documents", "deposit", "record"),
    "record.summary": ("record.summary", "read", "record"),
    "record.measures": ("record.measures", "read", "record"),
    "feed": ("agenda.feed", "read", "token"),
    "consent": ("apps", "write", "own"),
    "switch": ("spaces", "switch", "own"),
}


def _ungated(endpoint: str) -> bool:
    return endpoint in UNGATED or f"{endpoint.split('.')[0]}.*" in UNGATED


def _gates() -> dict:
    """endpoint -> (its view's gate or None, its class)."""
    app = _throwaway_app()
    return {
        rule.endpoint: (
            getattr(app.view_functions[rule.endpoint], "carnet_gate", None),
            classify(rule.endpoint, tuple(rule.arguments)),
        )
        for rule in app.url_map.iter_rules()
    }


def test_every_view_has_the_gate():
    """A new route without @web.gate fails here (or, if it truly is public, goes in UNGATED with why)."""
    gates = _gates()
    missing = sorted(e for e, (gate, _cls) in gates.items() if gate is None and not _ungated(e))
    assert not missing, f"views without @web.gate(section, action): {missing}"
    assert all(reason.strip() for reason in UNGATED.values())
    stale = [e for e in UNGATED if not any(e == g or (e.endswith(".*") and g.startswith(e[:-1])) for g in gates)]
    assert not stale, f"UNGATED names views that do not exist: {stale}"
    assert {e for e, (_g, cls) in gates.items() if cls in UNGATED_CLASSES} == {e for e in gates if _ungated(e)}, (
        "the views without a gate are exactly the public ones (and the OAuth endpoints)"
    )
    gated_public = sorted(e for e, (gate, _cls) in gates.items() if gate is not None and _ungated(e))
    assert not gated_public, f"in UNGATED, yet gated: {gated_public}"


def test_each_gate_names_the_section_of_its_page():
    """The gate on a view asks for what its page is: a holder page for its own section, a record
    page for the record section it shows (and through the access id of its URL)."""

    wrong = []
    for endpoint, (gate, cls) in _gates().items():
        if gate is None:
            continue
        blueprint = endpoint.split(".")[0]
        if cls == "holder":
            ok = gate.section == blueprint and gate.mode == "own" and gate.action in access.HOLDER_RIGHTS[blueprint]
        elif cls == "account":
            ok = gate.section == "account" and gate.mode == "own"
        elif cls == "record.agenda":  # the page reads, its forms write
            ok = (gate.section, gate.mode) == ("record.agenda", "record") and gate.action in ("read", "write")
        elif cls.startswith("messages"):
            ok = gate.section == "messages" and gate.mode == "account"
        elif cls == "api":  # a FHIR resource type's own section, as an app's scopes open them
            sections = (gate.section,) if isinstance(gate.section, str) else gate.section
            ok = all(s.startswith("fhir.") for s in sections) and gate.action in ("read", "search", "create")
        else:
            ok = tuple(gate) == CLASS_GATES[cls]
        if not ok:
            wrong.append(f"{endpoint} ({cls}): {tuple(gate)}")
    assert not wrong, f"gates that do not match their page's class: {wrong}"
