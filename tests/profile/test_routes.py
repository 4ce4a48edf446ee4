"""Medical profile, administrative data and the summary, as a holder (and as intruders)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.profile.models import Allergy, Contact, Disability, Treatment
from blueprints.profile.sections import BLOCKS, SECTIONS
from core import clock
from core.audit import AuditEvent
from core.db import db
from core.people import Patient
from tests.helpers import csrf_token, valid_nir
from tests.samples import pdf_bytes

HX = {"HX-Request": "true"}


@pytest.fixture
def holder(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    return client, account


def _token(client):
    return csrf_token(client, "/profil")


def _traces(app, action=None):

    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return [(e.action, e.target_type, e.target_label, e.detail) for e in db.session.scalars(stmt)]


def _rows(app, model):

    with app.app_context():
        return list(db.session.scalars(select(model)))


def _add(client, slug, htmx=True, **data):
    data["csrf_token"] = _token(client)
    return client.post(f"/profil/{slug}/ajouter", data=data, headers=HX if htmx else {})


# --------------------------------------------------------------------------- pages


def test_profile_page_shows_every_section_with_empty_states(holder):
    client, _ = holder
    r = client.get("/profil")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for key in ("allergies", "treatments", "conditions", "vaccinations", "disabilities", "contacts"):
        assert f'id="section-{key}"' in html
    for key in ("blood", "lifestyle", "donation", "directives"):
        assert f'id="block-{key}"' in html
    assert html.count('class="empty-state"') == 6
    assert 'href="/profil/resume"' in html and 'href="/profil/administratif"' in html
    assert 'href="/profil"' in html and 'aria-current="page"' in html  # in the navigation, active


def test_nav_has_five_entries(holder):
    client, _ = holder
    html = client.get("/").get_data(as_text=True)
    nav = html.split('class="bottomnav"', 1)[1].split("</nav>", 1)[0]
    assert nav.count("<li>") == 5 and 'href="/profil"' in nav


def test_anonymous_goes_to_login(client):
    for url in (
        "/profil",
        "/profil/resume",
        "/profil/administratif",
        "/profil/groupe-sanguin/modifier",
        "/profil/allergies/ajouter",
    ):
        r = client.get(url)
        assert r.status_code in (302, 303) and "/connexion" in r.headers["Location"], url


def test_professional_is_refused(app, client, make_pro, login_as):
    login_as(client, make_pro())
    token = csrf_token(client, "/")
    for url in ("/profil", "/profil/resume", "/profil/administratif", "/profil/identite/modifier"):
        assert client.get(url).status_code == 403, url
    r = client.post("/profil/allergies/ajouter", data={"substance": "x", "severity": "mild", "csrf_token": token})
    assert r.status_code == 403


def test_unknown_block_or_section_is_404(holder):
    client, _ = holder
    assert client.get("/profil/nope/modifier").status_code == 404
    assert client.get("/profil/nope/ajouter").status_code == 404


# --------------------------------------------------------------------------- single-value blocks


def test_block_inline_edit_round_trip(holder, app):
    client, _ = holder
    frag = client.get("/profil/groupe-sanguin/modifier", headers=HX)
    html = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in html
    assert 'hx-post="/profil/groupe-sanguin/modifier"' in html and 'name="blood_group"' in html
    page = client.get("/profil/groupe-sanguin/modifier").get_data(as_text=True)
    assert "<html" in page and 'action="/profil/groupe-sanguin/modifier"' in page
    r = client.post(
        "/profil/groupe-sanguin/modifier", data={"blood_group": "AB-", "csrf_token": _token(client)}, headers=HX
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="block-blood"' in html and "AB−" in html and "<form" not in html
    assert _traces(app, "profile_updated")[-1][3] == {"section": "blood", "fields": ["blood_group"]}
    cancel = client.get("/profil/groupe-sanguin/modifier?annuler=1", headers=HX).get_data(as_text=True)
    assert "AB−" in cancel and "<form" not in cancel


def test_block_without_js_posts_and_redirects(holder):
    client, _ = holder
    r = client.post(
        "/profil/mode-de-vie/modifier",
        data={
            "tobacco": "former",
            "alcohol": "occasional",
            "activity": "high",
            "lifestyle_note": "Vélo le dimanche",
            "csrf_token": _token(client),
        },
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/profil#block-lifestyle")
    html = client.get("/profil").get_data(as_text=True)
    assert "Vélo le dimanche" in html
    assert client.get("/profil/mode-de-vie/modifier?annuler=1").status_code == 303


def test_block_invalid_choice_answers_422(holder, app):
    client, _ = holder
    r = client.post(
        "/profil/groupe-sanguin/modifier", data={"blood_group": "Z+", "csrf_token": _token(client)}, headers=HX
    )
    assert r.status_code == 422 and "field-error" in r.get_data(as_text=True)
    assert _traces(app, "profile_updated") == []


def test_unchanged_block_leaves_no_trace(holder, app):
    client, _ = holder
    data = {"insurer_name": "Mutuelle Bleue", "insurer_member_number": "AB123", "csrf_token": _token(client)}
    client.post("/profil/complementaire/modifier", data=data, headers=HX)
    client.post("/profil/complementaire/modifier", data=data, headers=HX)
    assert len(_traces(app, "profile_updated")) == 1


# --------------------------------------------------------------------------- administrative data


def _identity(client, **over):
    data = {
        "family_name": "Martin",
        "used_name": "",
        "given_names": "Camille Anne",
        "birth_date": "1987-03-14",
        "sex": "F",
        "birth_place_code": "75056",
        "nir": "",
        "csrf_token": _token(client),
    }
    data.update(over)
    return client.post("/profil/identite/modifier", data=data, headers=HX)


def test_administrative_page_shows_identity_and_email_read_only(holder):
    client, account = holder
    html = client.get("/profil/administratif").get_data(as_text=True)
    for key in ("identity", "contact", "doctor", "insurer"):
        assert f'id="block-{key}"' in html
    assert account.email in html and "Camille" in html
    contact = html.split('id="block-contact"', 1)[1].split("</section>", 1)[0]
    assert account.email in contact
    form = client.get("/profil/identite/modifier", headers=HX).get_data(as_text=True)
    assert 'name="nir"' in form and 'name="email"' not in form
    form = client.get("/profil/coordonnees/modifier", headers=HX).get_data(as_text=True)
    assert 'name="phone_mobile"' in form and 'name="email"' not in form and account.email in form


def test_nir_with_a_wrong_key_is_refused(holder, app):

    client, account = holder
    good = valid_nir("1870375123456")
    bad = good[:13] + f"{(int(good[13:]) + 1) % 97:02d}"
    r = _identity(client, nir=bad)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="nir-error"' in html and 'aria-invalid="true"' in html
    assert _rows(app, Patient)[0].nir != bad
    assert _traces(app, "profile_updated") == []


def test_corsican_nir_is_accepted_and_traced(holder, app):

    client, account = holder
    nir = valid_nir("18703" + "2A" + "004123")
    r = _identity(client, nir=nir.replace("2A", "2a")[:7] + " " + nir[7:], birth_place_code="2a004", used_name="Dupont")
    html = r.get_data(as_text=True)
    assert r.status_code == 200, html[:2000]
    assert "1 87 03 2A 004 123" in html and "2A004" in html and "Dupont" in html
    patient = [p for p in _rows(app, Patient) if p.id == account.patient_id][0]
    assert patient.nir == nir and patient.birth_place_code == "2A004" and patient.used_name == "Dupont"
    trace = _traces(app, "profile_updated")[-1]
    assert trace[1] == "patients" and trace[3]["section"] == "identity" and "nir" in trace[3]["fields"]


def test_nir_of_another_space_is_refused(holder, make_holder, app):
    client, _ = holder
    other, _ = make_holder()

    other_nir = [p.nir for p in _rows(app, Patient) if p.id == other.patient_id][0]
    r = _identity(client, nir=other_nir)
    assert r.status_code == 422 and 'id="nir-error"' in r.get_data(as_text=True)


def test_identity_errors(holder):
    client, _ = holder
    r = _identity(
        client, nir=valid_nir("1870375123456"), family_name="", birth_place_code="ABCDE", birth_date="2999-01-01"
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="family_name-error"' in html and 'id="birth_place_code-error"' in html
    assert 'id="birth_date-error"' in html


def test_doctor_rpps_must_have_11_digits(holder, app):
    client, _ = holder
    token = _token(client)
    r = client.post(
        "/profil/medecin-traitant/modifier",
        data={
            "doctor_name": "Dr Hélène Bernard",
            "doctor_phone": "01 23 45 67 89",
            "doctor_rpps": "1234",
            "csrf_token": token,
        },
        headers=HX,
    )
    assert r.status_code == 422 and 'id="doctor_rpps-error"' in r.get_data(as_text=True)
    r = client.post(
        "/profil/medecin-traitant/modifier",
        data={
            "doctor_name": "Dr Hélène Bernard",
            "doctor_phone": "01 23 45 67 89",
            "doctor_rpps": "10101010101",
            "csrf_token": token,
        },
        headers=HX,
    )
    assert r.status_code == 200 and "10101010101" in r.get_data(as_text=True)


def test_contact_details_phone_validation_and_save(holder):
    client, _ = holder
    token = _token(client)
    r = client.post(
        "/profil/coordonnees/modifier", data={"phone_mobile": "pas un numéro", "csrf_token": token}, headers=HX
    )
    assert r.status_code == 422 and 'id="phone_mobile-error"' in r.get_data(as_text=True)
    r = client.post(
        "/profil/coordonnees/modifier",
        data={
            "phone_mobile": "06 12 34 56 78",
            "address_line1": "12 rue des Lilas",
            "postal_code": "69003",
            "city": "Lyon",
            "csrf_token": token,
        },
        headers=HX,
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "12 rue des Lilas" in html and "Lyon" in html


# --------------------------------------------------------------------------- list sections


def test_add_form_fragment_and_page(holder):
    client, _ = holder
    frag = client.get("/profil/allergies/ajouter", headers=HX).get_data(as_text=True)
    assert frag.lstrip().startswith('<div class="profile-add" id="add-allergies">') and "<form" in frag
    page = client.get("/profil/allergies/ajouter").get_data(as_text=True)
    assert "<html" in page and 'action="/profil/allergies/ajouter"' in page
    cancel = client.get("/profil/allergies/ajouter?annuler=1", headers=HX).get_data(as_text=True)
    assert "<form" not in cancel and 'hx-get="/profil/allergies/ajouter"' in cancel


def test_add_edit_remove_round_trip(holder, app):

    client, _ = holder
    r = _add(client, "traitements", name="Amoxicilline", dosage="1 g matin et soir", since="2026-01-10", ongoing="y")
    assert r.status_code == 200 and r.headers["HX-Retarget"] == "#section-treatments"
    assert "Amoxicilline" in r.get_data(as_text=True)
    treatment = _rows(app, Treatment)[0]
    r = _add(
        client, "allergies", substance="Pénicilline", reaction="Urticaire", severity="severe", treatment_id=treatment.id
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Pénicilline" in html and "Amoxicilline" in html and "badge-danger" in html
    allergy = _rows(app, Allergy)[0]
    assert allergy.treatment_id == treatment.id

    form = client.get(f"/profil/allergies/{allergy.id}/modifier", headers=HX).get_data(as_text=True)
    assert form.lstrip().startswith(f'<li id="item-{allergy.id}"') and 'value="Pénicilline"' in form
    bad = client.post(
        f"/profil/allergies/{allergy.id}/modifier",
        data={"substance": "", "severity": "severe", "csrf_token": _token(client)},
        headers=HX,
    )
    assert bad.status_code == 422 and 'id="substance-error"' in bad.get_data(as_text=True)
    ok = client.post(
        f"/profil/allergies/{allergy.id}/modifier",
        data={"substance": "Pénicilline G", "severity": "moderate", "treatment_id": "", "csrf_token": _token(client)},
        headers=HX,
    )
    html = ok.get_data(as_text=True)
    assert ok.status_code == 200 and html.lstrip().startswith(f'<li id="item-{allergy.id}"')
    assert "Pénicilline G" in html and "<form" in html  # the in-page confirm form, not the edit form
    assert 'name="substance"' not in html
    cancel = client.get(f"/profil/allergies/{allergy.id}/modifier?annuler=1", headers=HX).get_data(as_text=True)
    assert "Pénicilline G" in cancel and 'name="substance"' not in cancel

    r = client.post(f"/profil/allergies/{allergy.id}/supprimer", data={"csrf_token": _token(client)}, headers=HX)
    assert r.status_code == 200 and r.headers["HX-Retarget"] == "#section-allergies"
    assert "empty-state" in r.get_data(as_text=True)
    assert _rows(app, Allergy) == []

    actions = [(a, d.get("section")) for a, _t, _l, d in _traces(app) if a.startswith("profile")]
    assert actions == [
        ("profile_item_added", "treatments"),
        ("profile_item_added", "allergies"),
        ("profile_updated", "allergies"),
        ("profile_item_removed", "allergies"),
    ]
    # the trail names the section, never the health data
    assert all(label is None for a, _t, label, _d in _traces(app) if a.startswith("profile"))


def test_remove_uses_the_in_page_confirmation(holder, app):
    client, _ = holder
    _add(client, "vaccinations", name="DTP", on_date="2020-05-02", lot_number="X123")
    html = client.get("/profil").get_data(as_text=True)
    assert "confirm-panel" in html and "popovertarget" in html and "window.confirm" not in html
    assert "lot X123" in html and "2 mai 2020" in html


def test_add_without_js_redirects_to_the_section(holder, app):
    client, _ = holder
    r = _add(client, "antecedents", htmx=False, kind="surgical", label="Appendicectomie", year="2004")
    assert r.status_code == 303 and r.headers["Location"].endswith("/profil#section-conditions")
    html = client.get("/profil").get_data(as_text=True)
    assert "Appendicectomie" in html and "2004" in html


def test_add_errors_answer_422_with_the_form(holder, app):

    client, _ = holder
    r = _add(client, "contacts", role="emergency", name="", email="pas-un-email")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="add-contacts"' in html
    assert 'id="name-error"' in html and 'id="email-error"' in html
    r = _add(client, "contacts", role="boss", name="Paul")
    assert r.status_code == 422
    r = _add(client, "antecedents", kind="medical", label="Asthme", year="1700")
    assert r.status_code == 422
    r = _add(client, "antecedents", kind="medical", label="Asthme", year="2999")
    assert r.status_code == 422 and 'id="year-error"' in r.get_data(as_text=True)
    r = _add(client, "traitements", name="X", ongoing="", since="2026-02-01", until="2026-01-01")
    assert r.status_code == 422 and 'id="until-error"' in r.get_data(as_text=True)
    assert _rows(app, Contact) == []


def test_treatment_ongoing_clears_the_end(holder, app):

    client, _ = holder
    _add(client, "traitements", name="Levothyrox", ongoing="y", until="2026-01-01")
    t = _rows(app, Treatment)[0]
    assert t.ongoing is True and t.until is None
    _add(client, "traitements", name="Doliprane", since="2025-01-01", until="2025-02-01")
    stopped = [x for x in _rows(app, Treatment) if x.name == "Doliprane"][0]
    assert stopped.ongoing is False and str(stopped.until) == "2025-02-01"


def test_another_holders_items_are_not_found(app, client, make_holder, login_as):

    owner, _ = make_holder()
    intruder, _ = make_holder()
    login_as(client, owner)
    _add(client, "contacts", role="trusted", name="Jeanne Martin", relation="Sœur", phone="0611223344")
    contact = _rows(app, Contact)[0]
    client.post("/deconnexion", data={"csrf_token": _token(client)})
    other = app.test_client()
    login_as(other, intruder)
    token = csrf_token(other, "/profil")
    assert other.get(f"/profil/contacts/{contact.id}/modifier").status_code == 404
    assert (
        other.post(
            f"/profil/contacts/{contact.id}/modifier", data={"role": "trusted", "name": "x", "csrf_token": token}
        ).status_code
        == 404
    )
    assert other.post(f"/profil/contacts/{contact.id}/supprimer", data={"csrf_token": token}).status_code == 404
    assert "Jeanne Martin" not in other.get("/profil").get_data(as_text=True)
    assert "Jeanne Martin" not in other.get("/profil/resume").get_data(as_text=True)
    assert _rows(app, Contact)[0].name == "Jeanne Martin"
    # a section's URL with another section's item is not found either
    assert other.get(f"/profil/allergies/{contact.id}/modifier").status_code == 404


# --------------------------------------------------------------------------- advance directives


def test_directives_invite_to_add_a_document_when_there_is_none(holder):
    client, _ = holder
    html = client.get("/profil").get_data(as_text=True)
    block = html.split('id="block-directives"', 1)[1]
    assert "/documents/ajouter?categorie=DIR_ANT" in block
    form = client.get("/profil/directives-anticipees/modifier", headers=HX).get_data(as_text=True)
    assert "/documents/ajouter?categorie=DIR_ANT" in form and 'name="directive_document_id"' not in form


def test_directives_offer_only_the_holders_own_dir_ant_documents(app, client, make_holder, login_as):

    def upload(c, title, category):
        token = csrf_token(c, "/documents")
        r = c.post(
            "/documents/ajouter",
            data={
                "category": category,
                "title": title,
                "act_date": "2026-03-12",
                "note": "",
                "csrf_token": token,
                "files": [(io.BytesIO(pdf_bytes()), "d.pdf")],
            },
            content_type="multipart/form-data",
        )
        assert r.status_code == 303
        return r.headers["Location"].rsplit("/", 1)[-1]

    other, _ = make_holder()
    login_as(client, other)
    foreign = upload(client, "Directives de quelqu'un d'autre", "DIR_ANT")
    me, _ = make_holder()
    mine_client = app.test_client()
    login_as(mine_client, me)
    mine = upload(mine_client, "Mes directives anticipées", "DIR_ANT")
    upload(mine_client, "Une ordonnance", "ORD_SOIN")

    form = mine_client.get("/profil/directives-anticipees/modifier", headers=HX).get_data(as_text=True)
    assert f'value="{mine}"' in form and "Mes directives anticipées" in form
    assert foreign not in form and "Une ordonnance" not in form and "quelqu" not in form
    token = csrf_token(mine_client, "/profil")
    r = mine_client.post(
        "/profil/directives-anticipees/modifier",
        data={"directive_document_id": foreign, "csrf_token": token},
        headers=HX,
    )
    assert r.status_code == 422
    r = mine_client.post(
        "/profil/directives-anticipees/modifier", data={"directive_document_id": mine, "csrf_token": token}, headers=HX
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and f'href="/documents/{mine}"' in html


# --------------------------------------------------------------------------- summary and dashboard


def test_summary_shows_what_was_entered(holder):
    client, _ = holder
    token = _token(client)
    _add(client, "allergies", substance="Arachide", reaction="Œdème", severity="severe")
    _add(client, "traitements", name="Ventoline", dosage="2 bouffées si besoin", ongoing="y")
    _add(client, "antecedents", kind="medical", label="Asthme", year="1999")
    _add(client, "vaccinations", name="Grippe", on_date="2025-10-15")
    _add(client, "contacts", role="emergency", name="Louis Martin", relation="Frère", phone="0699887766")
    client.post("/profil/groupe-sanguin/modifier", data={"blood_group": "O-", "csrf_token": token})
    client.post(
        "/profil/medecin-traitant/modifier",
        data={"doctor_name": "Dr Roux", "doctor_phone": "0140506070", "csrf_token": token},
    )
    r = client.get("/profil/resume")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for text in (
        "Arachide",
        "Œdème",
        "Ventoline",
        "Asthme",
        "1999",
        "Grippe",
        "Louis Martin",
        "0699887766",
        "O−",
        "Dr Roux",
        "print.css",
    ):
        assert text in html, text
    assert "data-print" in html


def test_summary_when_empty(holder):
    client, _ = holder
    html = client.get("/profil/resume").get_data(as_text=True)
    assert html.count('class="meta"') >= 5


def test_dashboard_card(holder):
    client, _ = holder
    html = client.get("/").get_data(as_text=True)
    assert 'href="/profil/resume"' in html
    _add(client, "allergies", substance="Latex", severity="mild")
    _add(client, "allergies", substance="Iode", severity="moderate")
    client.post("/profil/groupe-sanguin/modifier", data={"blood_group": "B+", "csrf_token": _token(client)})
    html = client.get("/").get_data(as_text=True)
    card = html.split('href="/profil/resume"', 1)[1][:1500]
    assert re.search(r"2\s+allergies", card) and "B+" in card


def test_history_tells_profile_changes(holder, app):
    client, _ = holder
    _add(client, "allergies", substance="Latex", severity="mild")
    client.post("/profil/groupe-sanguin/modifier", data={"blood_group": "A+", "csrf_token": _token(client)})
    html = client.get("/historique").get_data(as_text=True)
    assert "Ajout au profil santé\u00a0: Allergies" in html
    assert "Profil santé modifié\u00a0: Groupe sanguin" in html
    assert "Latex" not in html


def test_every_form_as_page_and_as_fragment(holder):

    client, _ = holder
    for slug in BLOCKS:
        page = client.get(f"/profil/{slug}/modifier")
        frag = client.get(f"/profil/{slug}/modifier", headers=HX).get_data(as_text=True)
        assert page.status_code == 200 and "<html" in page.get_data(as_text=True), slug
        assert frag.lstrip().startswith("<section") and "<html" not in frag, slug
    for slug in SECTIONS:
        page = client.get(f"/profil/{slug}/ajouter")
        frag = client.get(f"/profil/{slug}/ajouter", headers=HX).get_data(as_text=True)
        assert page.status_code == 200 and "<html" in page.get_data(as_text=True), slug
        assert "<form" in frag and "<html" not in frag, slug


def test_item_edit_and_remove_without_js(holder, app):

    client, _ = holder
    _add(client, "handicaps", label="Surdité partielle")
    item = _rows(app, Disability)[0]
    page = client.get(f"/profil/handicaps/{item.id}/modifier").get_data(as_text=True)
    assert "<html" in page and 'value="Surdité partielle"' in page
    r = client.post(
        f"/profil/handicaps/{item.id}/modifier",
        data={"label": "Surdité de l’oreille gauche", "note": "Appareillée", "csrf_token": _token(client)},
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/profil#section-disabilities")
    assert client.get(f"/profil/handicaps/{item.id}/modifier?annuler=1").status_code == 303
    html = client.get("/profil").get_data(as_text=True)
    assert "Surdité de l’oreille gauche" in html and "Appareillée" in html
    r = client.post(f"/profil/handicaps/{item.id}/supprimer", data={"csrf_token": _token(client)})
    assert r.status_code == 303 and _rows(app, Disability) == []
    assert [a for a, *_ in _traces(app) if a.startswith("profile")] == [
        "profile_item_added",
        "profile_updated",
        "profile_item_removed",
    ]


def test_identity_changes_need_a_fresh_authentication(app, client, make_holder, login_as):

    account, _ = make_holder()
    login_as(client, account)
    csrf_token(client, "/profil/administratif")
    clock.advance(timedelta(minutes=6))
    r = client.get("/profil/identite/modifier")
    assert r.status_code == 303 and "/compte/confirmer" in r.headers["Location"]
    assert client.get("/profil/coordonnees/modifier").status_code == 200  # other blocks: no


BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}


def test_forms_opened_as_their_own_page_post_as_pages(holder, app):
    """/profil/allergies/ajouter opened directly (new tab, crawler): its form must not aim a
    fragment at a section that page does not have; it posts as a boosted form and lands on the
    section page, errors first, then success."""

    client, _ = holder
    for slug in SECTIONS:
        page = client.get(f"/profil/{slug}/ajouter").get_data(as_text=True)
        assert f'action="/profil/{slug}/ajouter"' in page and "hx-post" not in page, slug
        assert "hx-target" not in page.split("<main", 1)[1], slug
    for slug in BLOCKS:
        page = client.get(f"/profil/{slug}/modifier").get_data(as_text=True)
        assert "hx-post" not in page, slug

    bad = client.post(
        "/profil/allergies/ajouter", data={"substance": "", "csrf_token": _token(client)}, headers=BOOSTED
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "<html" in html and 'id="substance-error"' in html
    assert "hx-post" not in html
    ok = client.post(
        "/profil/allergies/ajouter",
        headers=BOOSTED,
        data={"substance": "Pollen", "severity": "mild", "csrf_token": _token(client)},
    )
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/profil#section-allergies")
    assert "HX-Retarget" not in ok.headers
    assert [a.substance for a in _rows(app, Allergy)] == ["Pollen"]
    html = client.get("/profil").get_data(as_text=True)
    assert "Pollen" in html

    # the same form inside the profile page is still a fragment, swapped in place
    frag = client.get("/profil/allergies/ajouter", headers=HX).get_data(as_text=True)
    assert 'hx-post="/profil/allergies/ajouter"' in frag and 'hx-target="#add-allergies"' in frag
    item = _rows(app, Allergy)[0]
    edit_page = client.get(f"/profil/allergies/{item.id}/modifier").get_data(as_text=True)
    assert "hx-post" not in edit_page
    r = client.post(
        f"/profil/allergies/{item.id}/modifier",
        headers=BOOSTED,
        data={"substance": "Pollens de graminées", "severity": "mild", "csrf_token": _token(client)},
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/profil#section-allergies")
    edit_frag = client.get(f"/profil/allergies/{item.id}/modifier", headers=HX).get_data(as_text=True)
    assert f'hx-post="/profil/allergies/{item.id}/modifier"' in edit_frag
    block_frag = client.get("/profil/groupe-sanguin/modifier", headers=HX).get_data(as_text=True)
    assert "hx-post=" in block_frag
