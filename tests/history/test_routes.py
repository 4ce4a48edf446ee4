"""Access history: own traces only, filters, keyset pages, fragments, CSV, escaping, read-only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from blueprints.history import services
from core import audit, clock
from core.audit import AuditEvent
from core.db import db
from core.grants import EmergencyAccess, Grant, Share
from core.people import Account
from core.sessions import UserSession


def trace(app, patient_id, action="document_added", actor_type="holder", **kw):
    with app.app_context():
        event = audit.append(action=action, actor_type=actor_type, patient_id=patient_id, **kw)
        db.session.commit()
        return event.id


def exported(app, patient_id):
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == patient_id, AuditEvent.action == "history_exported")
        ).all()


def in_english(client):
    """Assertions read the English source strings, whatever the French catalog says."""
    html = client.get("/historique").get_data(as_text=True)
    token = html.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post("/langue/en", data={"csrf_token": token}).status_code == 303


@pytest.fixture
def holder(make_holder, login_as, client):
    account, _code = make_holder()
    login_as(client, account)
    in_english(client)
    return account


def test_lists_only_the_holders_own_traces(app, client, make_holder, holder):
    other, _ = make_holder()
    trace(app, other.patient_id, target_label="Ordonnance de l'autre")
    trace(app, holder.patient_id, target_label="Ma radio")
    html = client.get("/historique").get_data(as_text=True)
    assert "Ma radio" in html
    assert "Login with password and a code sent by email" in html
    assert "l'autre" not in html and "l&#39;autre" not in html


def test_period_filters(app, client, holder):
    start = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    clock.freeze(start)
    trace(app, holder.patient_id, target_label="Old scan")
    clock.advance(timedelta(days=60))
    trace(app, holder.patient_id, target_label="Recent scan")
    week = client.get("/historique?periode=7j").get_data(as_text=True)
    assert "Recent scan" in week and "Old scan" not in week
    year = client.get("/historique?periode=12m").get_data(as_text=True)
    assert "Recent scan" in year and "Old scan" in year
    dates = client.get("/historique?periode=dates&du=2026-01-01&au=2026-01-10").get_data(as_text=True)
    assert "Old scan" in dates and "Recent scan" not in dates
    # the end date is included, in Paris time: 10 January 09:00 UTC is the 10th
    swapped = client.get("/historique?periode=dates&du=2026-01-10&au=2026-01-09").get_data(as_text=True)
    assert "Old scan" in swapped
    none = client.get("/historique?periode=dates&du=2025-01-01&au=2025-01-31").get_data(as_text=True)
    assert "Nothing matches these filters" in none


def test_actor_filters(app, client, holder):
    trace(
        app,
        holder.patient_id,
        action="document_opened",
        actor_type="professional",
        actor_name="Dr Alice Durand",
        actor_profession="medecin",
        target_label="Bilan sanguin",
        grant_id="g-1234",
    )
    trace(
        app,
        holder.patient_id,
        action="login_failed",
        actor_type="anonymous",
        detail={"method": "password"},
        ip="203.0.113.9",
    )
    pros = client.get("/historique?qui=pros").get_data(as_text=True)
    assert "Dr Alice Durand" in pros and "Physician" in pros and "g-1234" not in pros
    assert "access used: shared access" in pros and "name given by the person, not verified" in pros
    assert "Failed login attempt" not in pros and "Login with password" not in pros
    unknown = client.get("/historique?qui=inconnus").get_data(as_text=True)
    assert "Failed login attempt (password)" in unknown and "203.0.113.9" in unknown
    assert "Dr Alice Durand" not in unknown
    me = client.get("/historique?qui=moi").get_data(as_text=True)
    assert "Login with password" in me and "Dr Alice Durand" not in me and "Failed login" not in me
    assert "Nothing matches" in client.get("/historique?qui=urgence").get_data(as_text=True)
    assert "Nothing matches" in client.get("/historique?qui=apps").get_data(as_text=True)


def test_unknown_filter_values_fall_back(client, holder):
    r = client.get("/historique?periode=forever&qui=<x>&du=not-a-date&apres=abc")
    assert r.status_code == 200 and "Login with password" in r.get_data(as_text=True)


def test_keyset_pages(app, client, holder, monkeypatch):
    monkeypatch.setattr(services, "PAGE_SIZE", 5)
    for i in range(8):
        trace(app, holder.patient_id, target_label=f"Doc {i:02d}")
    first = client.get("/historique").get_data(as_text=True)
    assert "Doc 07" in first and "Doc 03" in first and "Doc 02" not in first
    assert "apres=" in first
    cursor = first.split("apres=")[1].split("&")[0].split('"')[0]
    second = client.get(f"/historique?apres={cursor}", headers={"HX-Request": "true"})
    body = second.get_data(as_text=True)
    assert "<html" not in body and "history-results" not in body
    assert "Doc 02" in body and "Doc 00" in body and "Login with password" in body and "Doc 03" not in body
    assert "apres=" not in body  # the end: no more button
    # without JavaScript, the same link is a page of its own
    page = client.get(f"/historique?apres={cursor}").get_data(as_text=True)
    assert "<html" in page and "Doc 02" in page and "Back to the most recent" in page


def test_pages_keep_the_filters(app, client, holder, monkeypatch):
    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    for i in range(3):
        trace(app, holder.patient_id, action="document_opened", actor_type="professional", actor_name=f"Dr {i}")
    first = client.get("/historique?qui=pros").get_data(as_text=True)
    assert "qui=pros" in first.split("apres=")[1].split('"')[0]


def test_htmx_gets_the_fragment_boost_gets_the_page(client, holder):
    frag = client.get("/historique?qui=moi", headers={"HX-Request": "true"})
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body and 'id="history-results"' in body
    assert "HX-Request" in frag.headers.get("Vary", "")
    boosted = client.get("/historique", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


def test_filter_form_is_htmx_and_plain_get(client, holder):
    html = client.get("/historique").get_data(as_text=True)
    form = html.split('class="history-filters"')[1].split(">")[0]
    assert 'method="get"' in form and 'hx-get="/historique"' in form
    assert 'hx-target="#history-results"' in form and 'hx-push-url="true"' in form
    assert 'class="list history-list" hx-disable' in html


def test_csv_download(app, client, holder):
    trace(
        app,
        holder.patient_id,
        action="document_opened",
        actor_type="professional",
        actor_name="Dr Alice Durand",
        actor_profession="pharmacien",
        target_label="Ordonnance",
        grant_id="grant-42",
        ip="198.51.100.7",
        device="Firefox on Android",
    )
    trace(app, holder.patient_id, action="document_added", target_label='=HYPERLINK("http://x")')
    r = client.get("/historique/export.csv?qui=pros")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.headers["Content-Disposition"].startswith("attachment;") and ".csv" in r.headers["Content-Disposition"]
    assert "no-store" in r.headers["Cache-Control"]
    raw = r.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Date",
        "Who",
        "Identity",
        "Profession",
        "Action",
        "Target",
        "Access used",
        "IP address",
        "Device",
    ]
    assert len(rows) == 2  # filtered: the professional only
    date, who, identity, profession, action, target, grant, ip, device = rows[1]
    assert datetime.fromisoformat(date).utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert (who, identity, profession, target, grant, ip, device) == (
        "Dr Alice Durand",
        "name given by the person, not verified",
        "Pharmacist",
        "Ordonnance",
        "shared access",
        "198.51.100.7",
        "Firefox on Android",
    )
    assert action == "Document opened: “Ordonnance”"
    # every row, and no cell a spreadsheet would run as a formula
    everything = client.get("/historique/export.csv").get_data().decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(everything), delimiter=";") for c in row]
    assert '\'=HYPERLINK("http://x")' in cells and not any(c.startswith("=") for c in cells)
    events = exported(app, holder.patient_id)
    assert len(events) == 2 and events[0].detail == {"periode": "tout", "qui": "pros"}
    assert "Access history downloaded" in client.get("/historique").get_data(as_text=True)


def test_csv_export_streams_every_batch(app, client, holder, monkeypatch):
    monkeypatch.setattr(services, "EXPORT_BATCH", 3)
    for i in range(7):
        trace(app, holder.patient_id, target_label=f"Doc {i}")
    text = client.get("/historique/export.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    labels = [r[5] for r in rows if r[5]]
    assert labels[:7] == [f"Doc {i}" for i in range(6, -1, -1)]  # newest first, all of them


def test_csv_needs_a_fresh_login(app, client, holder):
    clock.advance(timedelta(minutes=6))
    r = client.get("/historique/export.csv")
    assert r.status_code in (302, 303) and "/compte/confirmer" in r.headers["Location"]
    assert not exported(app, holder.patient_id)


def test_csv_refused_on_a_kiosk(app, client, holder):

    with app.app_context():
        for s in db.session.scalars(select(UserSession).where(UserSession.account_id == holder.id)):
            s.kiosk = True
        db.session.commit()
    assert client.get("/historique/export.csv").status_code == 403
    assert "Download (CSV)" not in client.get("/historique").get_data(as_text=True)


def test_names_and_titles_are_escaped(app, client, holder):
    trace(
        app,
        holder.patient_id,
        action="document_opened",
        actor_type="professional",
        actor_name="<script>alert(1)</script>",
        target_label='<img src=x onerror="alert(2)">',
    )
    html = client.get("/historique").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_unknown_action_has_a_generic_sentence(app, client, holder):
    trace(app, holder.patient_id, action="teleportation_done", target_label="Mars")
    assert "Other activity (teleportation done): “Mars”" in client.get("/historique").get_data(as_text=True)


def test_read_only_routes(app, client, holder):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("history.")]
    assert {r.endpoint for r in rules} == {"history.index", "history.export"}
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    token = client.get("/historique").get_data(as_text=True).split('"X-CSRFToken": "')[1].split('"')[0]
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/historique", headers={"X-CSRFToken": token}).status_code == 405


def test_anonymous_goes_to_login(client):
    r = client.get("/historique")
    assert r.status_code in (302, 303) and "/connexion" in r.headers["Location"]
    assert client.get("/historique/export.csv").status_code in (302, 303)


def test_professional_is_refused(app, client, make_pro, login_as):
    pro = make_pro()
    login_as(client, pro)
    assert client.get("/historique").status_code == 403
    assert client.get("/historique/export.csv").status_code == 403
    with app.app_context():
        denied = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")).all()
    assert any(e.detail == {"section": "history", "action": "read"} for e in denied)


def test_nav_entry(client, holder):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/historique"' in html


def test_page_in_french_by_default(client, make_holder, login_as):
    account, _code = make_holder()
    login_as(client, account)
    r = client.get("/historique")
    assert r.status_code == 200 and '<html lang="fr">' in r.get_data(as_text=True)


def test_home_card_shows_the_latest_three(app, client, holder):
    for i in range(4):
        trace(app, holder.patient_id, target_label=f"Card doc {i}")
    trace(
        app,
        holder.patient_id,
        action="document_opened",
        actor_type="professional",
        actor_name="<b>Dr Bold</b>",
        actor_profession="infirmier",
    )
    html = client.get("/").get_data(as_text=True)
    card = html.split('class="history-latest"')[1].split("</ul>")[0]
    assert card.startswith(" hx-disable>")
    assert "&lt;b&gt;Dr Bold&lt;/b&gt;" in card and "Nurse" in card
    assert "Card doc 3" in card and "Card doc 2" in card and "Card doc 1" not in card
    assert 'href="/historique">See the full history' in html


def test_accesses_devices_and_identities_in_words(app, client, holder, make_pro):
    """No raw id and no "cli" reach the holder: each access reads as the share's label or the day
    its code was made, a permanent or an emergency access; a typed name says it was not checked,
    a professional account says it was. The same words in the CSV."""

    pro = make_pro()
    with app.app_context():
        pro_id = db.session.get(Account, pro.id).professional.id
        made = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
        labelled = Share(
            patient_id=holder.patient_id,
            prefix="AAAA",
            code_hash="a" * 64,
            link_hash="b" * 64,
            scope={},
            label="Dr Durand",
            created_at=made,
            expires_at=made + timedelta(hours=2),
        )
        plain = Share(
            patient_id=holder.patient_id,
            prefix="BBBB",
            code_hash="c" * 64,
            link_hash="d" * 64,
            scope={},
            created_at=made,
            expires_at=made + timedelta(hours=2),
        )
        grant = Grant(patient_id=holder.patient_id, professional_id=pro_id)
        urgent = EmergencyAccess(
            patient_id=holder.patient_id,
            professional_id=pro_id,
            reason="Malaise",
            expires_at=made + timedelta(hours=12),
        )
        db.session.add_all([labelled, plain, grant, urgent])
        db.session.commit()
        ids = labelled.id, plain.id, grant.id, urgent.id
    code_user = dict(actor_type="professional", actor_name="Dr Typed Name", actor_profession="medecin")
    trace(app, holder.patient_id, action="share_opened", grant_id=ids[0], **code_user)
    trace(app, holder.patient_id, action="record_viewed", grant_id=ids[1], detail={"page": "summary"}, **code_user)
    with_account = dict(
        actor_type="professional", actor_name="Dr Hélène Bernard", actor_profession="medecin", account_id=pro.id
    )
    trace(app, holder.patient_id, action="record_viewed", grant_id=ids[2], detail={"page": "documents"}, **with_account)
    trace(app, holder.patient_id, action="emergency_access", grant_id=ids[3], **with_account)
    trace(app, holder.patient_id, action="document_deleted", target_label="Vieux scan", device="cli")

    html = client.get("/historique").get_data(as_text=True)
    for raw in (*ids, ">cli<", " cli<", "· cli"):
        assert raw not in html, raw
    assert "access used: code “Dr Durand”" in html
    assert "access used: code of 2 Dec" in html
    assert "access used: permanent access" in html and "access used: emergency access" in html
    assert html.count("name given by the person, not verified") == 2
    assert html.count("verified professional account") == 2
    assert "administration command" in html

    text = client.get("/historique/export.csv").get_data().decode("utf-8-sig")
    rows = {r[4]: r for r in csv.reader(io.StringIO(text), delimiter=";")}
    assert all(i not in text for i in ids) and ";cli" not in text
    opened = rows["Shared access opened by a professional with the code"]
    assert opened[2] == "name given by the person, not verified" and opened[6] == "code “Dr Durand”"
    assert rows["Emergency access to your space"][2] == "verified professional account"
    assert rows["Emergency access to your space"][6] == "emergency access"
    assert rows["List of your documents consulted"][6] == "permanent access"
    assert rows["Document deleted: “Vieux scan”"][8] == "administration command"
    assert rows["Document deleted: “Vieux scan”"][2] == ""


def test_history_in_french_names_the_access(app, client, make_holder, login_as, make_pro):

    account, _code = make_holder()
    login_as(client, account)
    with app.app_context():
        made = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
        share = Share(
            patient_id=account.patient_id,
            prefix="CCCC",
            code_hash="e" * 64,
            link_hash="f" * 64,
            scope={},
            created_at=made,
            expires_at=made + timedelta(hours=2),
        )
        db.session.add(share)
        db.session.commit()
        share_id = share.id
    trace(
        app,
        account.patient_id,
        action="share_opened",
        grant_id=share_id,
        actor_type="professional",
        actor_name="Dr Typed Name",
        actor_profession="medecin",
    )
    html = client.get("/historique").get_data(as_text=True)
    flat = html.replace("\u00a0", " ")
    assert "accès utilisé : code du 2 déc." in flat
    assert "nom indiqué par la personne, non vérifié" in html
