""" "Ma synthèse" (A4 PDF) and the emergency card (A6): what they hold, read back from the PDF's
text with pypdf; the language; keeping it in Documents; the professional's copy within the
share's scope; the traces."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pypdf
from sqlalchemy import update

from core import db as core_db, pdf, weasy
from core.db import db
from core.sessions import UserSession
from tests.helpers import csrf_token, documents_of, events, use_code
from tests.summary.record import EVIL, HX, fill, post

CARD_ITEMS = ["blood", "allergies", "contacts", "doctor", "conditions", "donation", "directives", "disabilities"]


def text_of(data: bytes) -> tuple[str, list]:
    """The PDF's text (whitespace folded) and its pages."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2019", "'")
    return re.sub(r"\s+", " ", text), reader.pages


def pdf_of(r) -> tuple[str, list]:
    assert r.status_code == 200, r.get_data(as_text=True)[:2000]
    assert r.content_type == "application/pdf"
    assert r.data.startswith(b"%PDF")
    return text_of(r.data)


def card(client, items=CARD_ITEMS, lang="fr"):
    token = csrf_token(client, "/profil/synthese")
    return client.post("/profil/synthese/carte", data={"csrf_token": token, "items": items, "lang": lang})


# --------------------------------------------------------------------------- the A4 summary


def test_the_summary_holds_the_record_severe_allergies_first_and_user_text_as_text(
    app, held_clock, holder, make_measure, make_document
):
    client, account = holder
    fill(client, make_measure, account)
    make_document(account, title="Compte rendu de scanner", act_date=date(2026, 10, 2))
    make_document(account, title="Note cachée", hidden=True)
    text, pages = pdf_of(client.get("/profil/synthese/pdf?lang=fr"))

    assert "Camille Martin" in text
    assert "14 mars 1987" in text and "39 ans" in text
    assert "Groupe sanguin" in text and "O−" in text
    # allergies: severe, then moderate, then mild, whatever the alphabet says
    assert EVIL in text  # escaped into the page: shown as typed, not read as markup
    assert text.index("Pénicilline") < text.index("Latex") < text.index("Acariens")
    assert "Œdème de Quincke" in text and "Grave" in text
    assert "Levothyrox 75 µg" in text and "1 comprimé le matin" in text
    assert "Ancien sirop" not in text  # stopped: not a current treatment
    assert "Hypothyroïdie" in text and "Diabète (père)" in text
    assert "Grippe saisonnière" in text and "FL2291" in text
    assert "Malentendante (appareillée)" in text
    assert "Jules Martin" in text and "06 12 34 56 78" in text and "Alice Roy" in text
    assert "Dr Hélène Bernard" in text and "10003456789" in text
    assert "J'accepte de donner mes organes" in text and "Tousorganes" in text.replace(" ", "")  # kerning splits words
    assert "Aucune directive anticipée" in text
    # measures: latest value of each kind with data (BMI derived), each with its chart
    for value in ("72,4 kg", "128/82 mmHg", "168 cm", "Indice de masse corporelle"):
        assert value in text, value
    assert "Fréquence cardiaque" not in text  # no data, no chart
    # documents: title, date, author; never a hidden one
    assert "Compte rendu de scanner" in text and "2 octobre 2026" in text
    assert "Note cachée" not in text
    assert "Imprimé le" in text and "Page 1 sur" in text
    assert "Démonstration" not in text and "fictitious" not in text  # the app runs in demo mode here
    assert "/pro/acces" in text  # the QR code's link, written out too
    [trace] = events(app, "summary_printed")
    assert trace.detail == {"format": "a4", "lang": "fr"} and trace.actor_type == "holder"


def test_the_summary_in_english(holder, make_measure):
    client, account = holder
    fill(client, make_measure, account)
    text, _pages = pdf_of(client.get("/profil/synthese/pdf?lang=en"))
    for words in ("My health summary", "Blood group", "Current treatments", "72.4 kg", "March 14, 1987", "Page 1 of"):
        assert words in text, words
    assert "Groupe sanguin" not in text


def test_an_empty_record_prints_its_empty_states(holder):
    client, _account = holder
    text, pages = pdf_of(client.get("/profil/synthese/pdf"))  # the screen's language: French
    assert len(pages) == 1
    for words in ("Aucune allergie", "Aucun traitement en cours", "Aucune mesure", "Aucun document", "Non renseigné"):
        assert words in text, words


def test_the_screen_offers_both_and_is_reachable_from_the_profile(holder):
    client, _account = holder
    assert 'href="/profil/synthese"' in client.get("/profil").get_data(as_text=True)
    assert 'href="/profil/synthese"' in client.get("/profil/resume").get_data(as_text=True)
    html = client.get("/profil/synthese").get_data(as_text=True)
    assert 'action="/profil/synthese/pdf"' in html and 'action="/profil/synthese/carte#card-form"' in html
    # the default card choice is ticked
    assert re.search(r'value="blood"[^>]*checked|checked[^>]*value="blood"', html)
    assert not re.search(r'value="donation"[^>]*checked|checked[^>]*value="donation"', html)


def test_it_opens_in_a_kiosk_session(app, holder):
    client, account = holder
    with app.app_context():
        db.session.execute(update(UserSession).where(UserSession.account_id == account.id).values(kiosk=True))
        db.session.commit()
    pdf_of(client.get("/profil/synthese/pdf"))


# --------------------------------------------------------------------------- keeping it


def test_keeping_it_adds_a_pdf_document_of_the_summary_category(app, holder, make_measure):
    client, account = holder
    fill(client, make_measure, account, measures=False)
    token = csrf_token(client, "/profil/synthese")
    r = client.post("/profil/synthese/garder", data={"csrf_token": token, "lang": "en"}, headers=HX)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    [doc] = [d for d in documents_of(app, account.patient_id) if d.category == "SYNTHESE"]
    assert doc.kind == "pdf" and doc.source == "summary" and doc.title.startswith("My health summary of")
    assert f'href="/documents/{doc.id}"' in html and "autofocus" in html
    [kept] = events(app, "summary_kept")
    assert kept.target_id == doc.id
    # the history tells it in words
    history = client.get("/historique").get_data(as_text=True)
    assert "Synthèse gardée dans vos documents" in history
    # a kept summary is not one of the "latest documents" of the next one
    text, _pages = pdf_of(client.get("/profil/synthese/pdf"))
    assert "My health summary of" not in text


def test_keeping_it_without_htmx_goes_to_the_document(app, holder):
    client, account = holder
    token = csrf_token(client, "/profil/synthese")
    r = client.post("/profil/synthese/garder", data={"csrf_token": token})
    [doc] = documents_of(app, account.patient_id)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/documents/{doc.id}")
    assert doc.title.startswith("Ma synthèse du")


def test_keeping_it_needs_the_form_token(app, holder):
    client, account = holder
    r = client.post("/profil/synthese/garder", data={}, headers=HX)
    assert r.status_code in (400, 422)
    assert documents_of(app, account.patient_id) == []


# --------------------------------------------------------------------------- the emergency card


def test_the_card_is_one_a6_page_with_what_was_chosen(app, holder, make_measure):
    client, account = holder
    fill(client, make_measure, account, measures=False)
    text, pages = pdf_of(card(client))
    assert len(pages) == 1
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert (round(width), round(height)) == (298, 420)  # A6: 105 x 148 mm in points
    assert "carte d'urgence" in text.lower()  # the band is in capitals
    for words in ("Camille", "14 mars 1987", "O−", "Pénicilline", "Jules Martin", "06 12 34 56 78"):
        assert words in text, words
    assert "Hypothyroïdie" in text and "Diabète (père)" not in text  # family history is not for the card
    assert "Levothyrox" not in text  # treatments were not chosen
    assert "Plier ici" in text
    [trace] = events(app, "summary_printed")
    assert trace.detail["format"] == "card" and trace.detail["items"] == CARD_ITEMS
    # the choice is remembered
    html = client.get("/profil/synthese").get_data(as_text=True)
    assert not re.search(r'value="treatments"[^>]*checked|checked[^>]*value="treatments"', html)
    assert re.search(r'value="donation"[^>]*checked|checked[^>]*value="donation"', html)


def test_the_card_cuts_long_lists(holder, make_measure):
    client, account = holder
    for n in range(8):
        post(client, "/profil/allergies/ajouter", substance=f"Substance {n}", severity="mild")
    text, pages = pdf_of(card(client, ["allergies"], lang="en"))
    assert len(pages) == 1 and "emergency card" in text.lower()
    assert "Substance 4" in text and "Substance 5" not in text and "and 3 more" in text


def test_the_card_asks_for_at_least_one_item(holder):
    client, _account = holder
    r = card(client, [])
    assert r.status_code == 422 and r.content_type.startswith("text/html")
    assert "Choisissez au moins un élément" in r.get_data(as_text=True)


def test_a_card_too_full_for_one_page_says_so(app, holder):
    client, account = holder
    long = "x" * 150
    for n in range(5):
        post(client, "/profil/allergies/ajouter", substance=f"Allergène {n} {long}", severity="severe", reaction=long)
        post(client, "/profil/traitements/ajouter", name=f"Traitement {n} {long}", dosage=long, ongoing="y")
        post(client, "/profil/contacts/ajouter", role="emergency", name=f"Contact {n} {long}", relation="Ami")
    r = card(client, ["allergies", "treatments", "contacts"])
    assert r.status_code == 422
    assert "ne tient pas sur la carte" in r.get_data(as_text=True)
    assert events(app, "summary_printed") == []


# --------------------------------------------------------------------------- a professional's copy


def _pro_client(app, code):
    pro = app.test_client()
    r = use_code(pro, code=code)
    assert r.status_code in (200, 302, 303), r.status_code
    return pro


def test_a_professional_prints_within_the_share_only(app, holder, make_measure, make_document, make_share):
    client, account = holder
    fill(client, make_measure, account)
    make_document(account, title="Compte rendu de scanner")
    share_id, code, _token = make_share(account, {"summary": True})
    pro = _pro_client(app, code)
    summary = pro.get(f"/pro/dossier/{share_id}/resume").get_data(as_text=True)
    assert f'action="/pro/dossier/{share_id}/resume/pdf"' in summary
    text, _pages = pdf_of(pro.get(f"/pro/dossier/{share_id}/resume/pdf?lang=fr"))
    assert "Pénicilline" in text and "Levothyrox" in text
    assert "72,4 kg" not in text and "Mesures" not in text  # measures are not in this share
    assert "Compte rendu de scanner" not in text  # nor documents
    assert "par Hélène Durand, avec l'accès donné par le patient" in text
    [trace] = events(app, "summary_printed")
    assert trace.actor_type == "professional" and trace.grant_id == share_id and trace.patient_id == account.patient_id


def test_a_professional_with_the_whole_record_prints_it_all(app, holder, make_measure, make_document, make_share):
    client, account = holder
    fill(client, make_measure, account)
    make_document(account, title="Compte rendu de scanner")
    share_id, code, _token = make_share(account)
    text, _pages = pdf_of(_pro_client(app, code).get(f"/pro/dossier/{share_id}/resume/pdf"))
    assert "72,4 kg" in text and "Compte rendu de scanner" in text


def test_without_the_summary_in_the_share_there_is_no_pdf(app, holder, make_share):
    _client, account = holder
    share_id, code, _token = make_share(account, {"documents": "all"})
    r = _pro_client(app, code).get(f"/pro/dossier/{share_id}/resume/pdf")
    assert r.status_code in (403, 404)
    assert events(app, "summary_printed") == []


# --------------------------------------------------------------------------- what WeasyPrint is given


def test_the_pages_reference_only_carnet_static_files(app, holder, make_measure, monkeypatch):
    """Every URL in the HTML handed to WeasyPrint is one the static fetcher serves; user text
    that looks like markup (an image from elsewhere) stays text."""
    client, account = holder
    fill(client, make_measure, account)
    post(
        client,
        "/profil/handicaps/ajouter",
        label='<img src="http://example.org/x.png"> <link href="file:///etc/passwd">',
    )
    pages = []
    real = pdf.html_to_pdf

    def capture(html, static_folder, *args, **kwargs):
        pages.append((html, kwargs.get("files") or {}))
        return real(html, static_folder, *args, **kwargs)

    monkeypatch.setattr(pdf, "html_to_pdf", capture)
    text, _pages = pdf_of(client.get("/profil/synthese/pdf"))
    assert '<img src="http://example.org/x.png">' in text
    pdf_of(card(client, ["disabilities"]))
    assert len(pages) == 2
    for html, files in pages:
        urls = re.findall(r'(?:src|href)="([^"]*)"', html)
        assert urls, "the stylesheet at least"
        for url in urls:  # a static file, or a file handed over with the page (its charts)
            assert weasy.page_file(files, url) or weasy.resolve(Path(app.static_folder).resolve(), url).is_file()
    assert sorted(pages[0][1]) == sorted(re.findall(r'src="https://static.carnet.invalid/page/([^"]+)"', pages[0][0]))
    assert all(text.startswith("<svg") and "<script" not in text for text in pages[0][1].values())


def test_weasyprint_never_works_inside_a_transaction(app, holder, make_measure, make_share, monkeypatch):
    """The page is read, then the transaction ends before WeasyPrint lays it out: no lock is held
    for the seconds a PDF takes (the holder's PDF, keeping it, the card, a professional's)."""

    client, account = holder
    fill(client, make_measure, account)
    share_id, code, _token = make_share(account)
    states = []
    real = pdf.html_to_pdf

    def spy(*args, **kwargs):
        session = core_db.db.session()
        states.append((session.in_transaction(), bool(session.info.get("carnet_wrote"))))
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf, "html_to_pdf", spy)
    pdf_of(client.get("/profil/synthese/pdf"))
    token = csrf_token(client, "/profil/synthese")
    assert client.post("/profil/synthese/garder", data={"csrf_token": token}, headers=HX).status_code == 200
    pdf_of(card(client, ["allergies"]))
    pdf_of(_pro_client(app, code).get(f"/pro/dossier/{share_id}/resume/pdf"))
    assert states == [(False, False)] * 4
