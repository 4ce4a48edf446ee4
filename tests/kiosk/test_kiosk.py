"""A public kiosk: registered by an operator, recognised by its cookie, opened from a phone,
closed for good by "Finish" or two idle minutes (SECURITY.md, "Shared devices")."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from blueprints.kiosk.models import Kiosk, KioskHandoff
from core import clock
from core.db import db
from core.sessions import UserSession
from tests.helpers import HX, csrf_token, events, rows, use_code
from tests.kiosk.helpers import approve_on_phone, enrol_link, show_code

#: Three pages as a fax server writes them (a TIFF: no browser shows it).
FAX = (Path(__file__).resolve().parent.parent / "documents" / "fixtures" / "fax-3-pages-g3.tif").read_bytes()


def _session_of(app, client) -> UserSession:
    import hashlib

    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    with app.app_context():
        return db.session.scalar(
            select(UserSession).where(UserSession.token_hash == hashlib.sha256(cookie.value.encode()).hexdigest())
        )


def _open_from_phone(app, kiosk, phone, secrets_issued):
    show_code(kiosk)
    r = approve_on_phone(phone, secrets_issued.approval_path())
    assert r.status_code == 200
    return kiosk.get("/borne/attente", headers=HX)


# --------------------------------------------------------------------------- registering


def test_enrolment_link_works_once_and_lists_and_revokes(app, client):
    link = enrol_link(app, "Mairie du 5e - borne 1")
    assert client.get(link).status_code == 200
    token = csrf_token(client, link)
    r = client.post(link, data={"csrf_token": token})
    assert r.status_code == 303
    cookie = client.get_cookie(app.config["KIOSK_COOKIE_NAME"])
    assert cookie is not None and cookie.http_only
    # a second device opening the same link gets nothing
    other = app.test_client()
    page = other.get(link).get_data(as_text=True)
    assert "no longer valid" in page or "plus valable" in page
    r = other.post(link, data={"csrf_token": csrf_token(other, link)})
    assert r.status_code == 422 and other.get_cookie(app.config["KIOSK_COOKIE_NAME"]) is None

    runner = app.test_cli_runner()
    listing = runner.invoke(args=["kiosks", "list"]).output
    assert "Mairie du 5e - borne 1" in listing and "enrolled" in listing
    [kiosk] = rows(app, Kiosk)
    assert runner.invoke(args=["kiosks", "revoke", kiosk.id]).exit_code == 0
    assert "revoked" in runner.invoke(args=["kiosks", "list"]).output
    # revoked: the device is an ordinary browser again, and its cookie is dropped
    r = client.get("/borne")
    assert r.status_code == 302 and "/connexion" in r.headers["Location"]
    assert client.get_cookie(app.config["KIOSK_COOKIE_NAME"]) is None


def test_forged_or_unknown_cookie_is_no_kiosk(app, client):
    client.set_cookie(app.config["KIOSK_COOKIE_NAME"], "not-a-signed-value")
    r = client.get("/borne")
    assert r.status_code == 302 and "/connexion" in r.headers["Location"]


def test_welcome_is_large_and_offers_every_way_in(app, kiosk_client):
    kiosk, name = kiosk_client
    html = kiosk.get("/borne").get_data(as_text=True)
    assert 'class=" public kiosk"' in html or re.search(r'id="page" class="[^"]*\bkiosk\b', html)
    assert name in html
    assert 'hx-post="/borne/code"' in html
    assert 'href="/connexion"' in html and 'href="/pro/acces"' in html
    assert "kiosk.css" in html
    assert kiosk.get("/borne").headers["Clear-Site-Data"] == '"cache", "storage"'


# --------------------------------------------------------------------------- the QR hand-off


def test_qr_hand_off_opens_a_kiosk_session_traced_with_its_name(
    app, kiosk_client, client, make_holder, login_as, secrets_issued
):
    kiosk, name = kiosk_client
    account, _ = make_holder()
    phone = login_as(client, account)
    html = show_code(kiosk)
    assert "<svg" in html and 'hx-get="/borne/attente"' in html
    assert len(secrets_issued.issued[-1]) * 4 >= 128  # hex: 4 bits a character
    # nothing yet: the kiosk keeps waiting
    assert kiosk.get("/borne/attente", headers=HX).status_code == 204
    # the phone sees the kiosk's name before approving
    page = phone.get(secrets_issued.approval_path()).get_data(as_text=True)
    assert name in page
    r = approve_on_phone(phone, secrets_issued.approval_path())
    assert r.status_code == 200
    r = kiosk.get("/borne/attente", headers=HX)
    assert r.status_code == 204 and r.headers["HX-Redirect"] == "/"
    record = _session_of(app, kiosk)
    assert record.kiosk and record.account_id == account.id
    assert kiosk.get("/").status_code == 200
    [approved] = events(app, "kiosk_approved")
    assert approved.detail["kiosk"] == name and not approved.kiosk
    login = events(app, "login")[-1]
    assert login.detail == {"method": "kiosk-qr", "kiosk": name} and login.kiosk
    # the holder's history says it in words
    history = phone.get("/historique").get_data(as_text=True)
    assert name in history


def test_approval_is_one_use(app, kiosk_client, client, make_holder, login_as, secrets_issued):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    phone = login_as(client, account)
    show_code(kiosk)
    path = secrets_issued.approval_path()
    assert approve_on_phone(phone, path).status_code == 200
    assert approve_on_phone(phone, path).status_code == 422
    kiosk.get("/borne/attente", headers=HX)
    # the code was used: another kiosk session cannot be opened with it
    with app.app_context():
        [handoff] = db.session.scalars(select(KioskHandoff)).all()
        assert handoff.used_at is not None


def test_code_expires_after_two_minutes(app, kiosk_client, client, make_holder, login_as, secrets_issued):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    phone = login_as(client, account)
    show_code(kiosk)
    clock.freeze(clock.utcnow() + timedelta(seconds=app.config["KIOSK_HANDOFF_SECONDS"] + 1))
    assert approve_on_phone(phone, secrets_issued.approval_path()).status_code == 422
    r = kiosk.get("/borne/attente", headers=HX)
    assert r.status_code == 200 and 'hx-post="/borne/code"' in r.get_data(as_text=True)
    assert not events(app, "kiosk_approved")


def test_a_kiosk_cannot_approve_a_kiosk(app, kiosk_client, make_holder, login, secrets_issued):
    kiosk, _name = kiosk_client
    show_code(kiosk)
    path = secrets_issued.approval_path()
    assert kiosk.get(path).status_code == 302  # nobody logged in: to the login page
    # a second kiosk, where a holder logged in with their password, scans the first one's code
    other = app.test_client()
    other.set_cookie(app.config["KIOSK_COOKIE_NAME"], kiosk.get_cookie(app.config["KIOSK_COOKIE_NAME"]).value)
    account, _ = make_holder()
    login(other, account)
    assert other.get(path).status_code == 403
    r = other.post(path, data={"csrf_token": csrf_token(other, "/")})
    assert r.status_code == 403 and not events(app, "kiosk_approved")


def test_unknown_approval_code_says_so(app, holder):
    client, _account = holder
    r = client.get("/borne/valider/" + "0" * 40)
    assert r.status_code == 200 and (
        "no longer works" in r.get_data(as_text=True) or "ne fonctionne plus" in r.get_data(as_text=True)
    )


# --------------------------------------------------------------------------- limits and leaving


def test_kiosk_session_lasts_fifteen_minutes_at_most(app, kiosk_client, client, make_holder, login_as, secrets_issued):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    _open_from_phone(app, kiosk, login_as(client, account), secrets_issued)
    start = clock.utcnow()
    for minute in range(1, 15):  # busy all along: the idle rule never applies
        clock.freeze(start + timedelta(minutes=minute, seconds=30))
        assert kiosk.get("/").status_code == 200
    clock.freeze(start + timedelta(minutes=15, seconds=10))
    r = kiosk.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/borne")


def test_two_idle_minutes_end_it_back_to_the_welcome_screen(
    app, kiosk_client, client, make_holder, login_as, secrets_issued
):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    _open_from_phone(app, kiosk, login_as(client, account), secrets_issued)
    html = kiosk.get("/").get_data(as_text=True)
    assert 'data-idle-seconds="120"' in html and 'data-present-url="/borne/present"' in html
    # both countdowns are timers: read when asked, never announced at each tick
    assert 'id="idle-countdown" role="timer"' in html and 'id="idle-warning-seconds" role="timer"' in html
    assert "data-still-here" in html
    clock.freeze(clock.utcnow() + timedelta(minutes=2, seconds=5))
    r = kiosk.get("/documents")
    assert r.status_code == 302 and r.headers["Location"].endswith("/borne")  # no "next": nothing of before


def test_i_am_here_keeps_the_session(app, kiosk_client, client, make_holder, login_as, secrets_issued):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    _open_from_phone(app, kiosk, login_as(client, account), secrets_issued)
    token = csrf_token(kiosk, "/")
    start = clock.utcnow()
    clock.freeze(start + timedelta(seconds=100))
    assert kiosk.post("/borne/present", headers={"X-CSRFToken": token}).status_code == 204
    clock.freeze(start + timedelta(seconds=200))
    assert kiosk.get("/").status_code == 200


def test_finish_wipes_but_keeps_the_kiosk_registered(app, kiosk_client, client, make_holder, login_as, secrets_issued):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    _open_from_phone(app, kiosk, login_as(client, account), secrets_issued)
    record = _session_of(app, kiosk)
    token = csrf_token(kiosk, "/")
    r = kiosk.post("/deconnexion", data={"csrf_token": token})
    assert r.status_code in (302, 303) and r.headers["Location"].endswith("/borne")
    assert r.headers["Clear-Site-Data"] == '"cache", "storage"'
    with app.app_context():
        assert db.session.get(UserSession, record.id).ended_at is not None
    assert kiosk.get_cookie(app.config["KIOSK_COOKIE_NAME"]) is not None
    assert kiosk.get("/borne").status_code == 200
    r = kiosk.get("/documents")
    assert r.status_code == 302 and r.headers["Location"].endswith("/borne")


def test_password_login_at_a_kiosk_is_a_kiosk_session(app, kiosk_client, make_holder, login):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    login(kiosk, account)
    assert _session_of(app, kiosk).kiosk
    html = kiosk.get("/compte").get_data(as_text=True)
    assert "public kiosk" in html or "borne publique" in html


def test_personal_device_sessions_are_not_kiosk(app, holder):
    client, _account = holder
    assert not _session_of(app, client).kiosk
    html = client.get("/").get_data(as_text=True)
    assert not re.search(r'id="page" class="[^"]*\bkiosk\b', html)


def test_nothing_to_download_or_keep_at_a_kiosk(
    app, kiosk_client, client, make_holder, make_document, login_as, secrets_issued
):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    doc = make_document(account)
    _open_from_phone(app, kiosk, login_as(client, account), secrets_issued)
    page = kiosk.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert "/telecharger" not in page and "data-print-button" in page
    assert kiosk.get(f"/documents/{doc.id}/telecharger").status_code == 403
    # on the holder's own phone the same page offers the download
    assert "/telecharger" in client.get(f"/documents/{doc.id}").get_data(as_text=True)


def test_a_fax_is_read_page_by_page_at_a_kiosk(
    app, kiosk_client, client, make_holder, make_document, login_as, secrets_issued
):
    """A TIFF, which no browser shows and a kiosk cannot download: its pages drawn on the server,
    full screen in the same tab (a tab left open would outlive the visit)."""
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    doc = make_document(account, FAX, "fax-labo.tif")
    _open_from_phone(app, kiosk, login_as(client, account), secrets_issued)
    page = kiosk.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert len(re.findall(r'<img class="pdf-page-image"', page)) == 3 and "/telecharger" not in page
    full = re.search(r'<a [^>]*href="/documents/[^"]+/plein-ecran"[^>]*>', page).group(0)
    assert 'target="_blank"' not in full
    assert kiosk.get(f"/documents/{doc.id}/pages/2").mimetype == "image/png"


def test_login_form_at_a_kiosk_remembers_nothing(app, kiosk_client, client):
    kiosk, _name = kiosk_client
    html = kiosk.get("/connexion").get_data(as_text=True)
    assert 'autocomplete="off"' in html and "webauthn" not in html.split('name="email"')[1].split(">")[0]
    assert "username webauthn" in client.get("/connexion").get_data(as_text=True)


def test_a_professional_types_a_code_at_a_hospital_kiosk(app, kiosk_client, make_holder, make_share):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    _share_id, code, _token = make_share(account)
    page = kiosk.get("/pro/acces").get_data(as_text=True)
    assert re.search(r'id="page" class="[^"]*\bkiosk\b', page)
    r = use_code(kiosk, code)
    assert r.status_code in (302, 303)
    record = _session_of(app, kiosk)
    assert record.kiosk and (record.data or {}).get("share_use")
    html = kiosk.get(r.headers["Location"]).get_data(as_text=True)
    assert re.search(r'id="page" class="[^"]*\bkiosk\b', html) and 'data-idle-seconds="120"' in html
    assert events(app, "share_opened")[-1].kiosk
    # ending it leaves the kiosk registered, ready for the next professional
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    r = kiosk.post("/pro/terminer", data={"csrf_token": token})
    assert r.status_code in (302, 303) and "cookies" not in r.headers["Clear-Site-Data"]
    assert kiosk.get_cookie(app.config["KIOSK_COOKIE_NAME"]) is not None


def test_the_professionals_summary_prints_in_one_tap_at_a_kiosk(app, kiosk_client, client, make_holder, make_share):
    """At a kiosk the record summary's PDF goes to the print dialog (a hidden frame, as the
    holder's "Ma synthèse"); elsewhere it is downloaded."""
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    for browser in (kiosk, client):
        _share_id, code, _token = make_share(account)
        record = use_code(browser, code).headers["Location"]
        html = browser.get(record.rstrip("/") + "/resume").get_data(as_text=True)
        form = re.search(r'<form class="summary-pdf"[^>]*>', html).group(0)
        assert ("data-print-frame" in form) is (browser is kiosk), form


def test_a_half_typed_login_at_a_kiosk_times_out_to_the_welcome_screen(app, kiosk_client, client):
    kiosk, _name = kiosk_client
    html = kiosk.get("/connexion").get_data(as_text=True)
    assert 'data-idle-seconds="120"' in html and 'data-expired-url="/borne"' in html
    assert 'data-status-url=""' in html  # nobody is logged in: the countdown is the page's own
    assert 'data-idle-seconds=""' in kiosk.get("/borne").get_data(as_text=True)
    assert 'data-idle-seconds=""' in client.get("/connexion").get_data(as_text=True)  # elsewhere: no timer


def test_purge_removes_old_qr_codes_only(app, kiosk_client):
    kiosk, _name = kiosk_client
    show_code(kiosk)
    clock.freeze(clock.utcnow() + timedelta(days=2))
    show_code(kiosk)
    out = app.test_cli_runner().invoke(args=["kiosks", "purge"])
    assert out.exit_code == 0 and out.output.startswith("1 ")
    assert len(rows(app, KioskHandoff)) == 1


def test_revoking_a_kiosk_ends_what_is_open_on_it(app, kiosk_client, client, make_holder, login_as, secrets_issued):
    kiosk, _name = kiosk_client
    account, _ = make_holder()
    _open_from_phone(app, kiosk, login_as(client, account), secrets_issued)
    record = _session_of(app, kiosk)
    [row] = rows(app, Kiosk)
    assert app.test_cli_runner().invoke(args=["kiosks", "revoke", row.id]).exit_code == 0
    r = kiosk.get("/documents")
    assert r.status_code == 302 and "/connexion" in r.headers["Location"]
    with app.app_context():
        assert db.session.get(UserSession, record.id).end_reason == "kiosk_revoked"
