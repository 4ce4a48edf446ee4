"""No script carried by a stored PDF runs in a Carnet page (SECURITY.md, "Uploads"; ASVS 5.4.1).

Chromium's PDF viewer runs a document's JavaScript (/OpenAction, /AA, /JS of links and form
fields) even under `Content-Security-Policy: sandbox`: so no route may hand a stored PDF to a
browser inline, and no page may embed one (iframe, embed, object). PDFs are shown as page images
drawn on the server; the original is only downloaded, byte for byte. Checked for every route
that returns a document's content, for the holder and for a professional, with PDFs carrying
scripts in each place a viewer runs them (tests/documents/pdf_samples.py), whether the holder
added them or a professional deposited them. Also: password-protected PDFs are told about in
French, rendering is bounded and never runs in a write transaction, and a professional's page
images add no trace of their own.
"""

from __future__ import annotations

import io
import multiprocessing
import re

import pytest
from PIL import Image
from sqlalchemy import update

from blueprints.documents import files
from blueprints.documents.models import Document
from core import db as core_db
from core.files import pages
from tests.documents import pdf_samples
from tests.helpers import csrf_token, documents_of, events, use_code

SCRIPTED = pdf_samples.scripted_pdfs()
EMBEDS = re.compile(r"<\s*(iframe|embed|object|frame|portal)\b", re.I)
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _empty_blob_store(fresh_store):
    """The blob store starts empty for each test."""


def _doc_id(response) -> str:
    assert response.status_code == 303, response.status_code
    return response.headers["Location"].rsplit("/", 1)[-1]


def _deposit(client, sid: str, content: bytes, name: str) -> None:
    page = client.get(f"/pro/dossier/{sid}/deposer").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    r = client.post(
        f"/pro/dossier/{sid}/deposer",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "category": "CPT_REND",
            "title": "Compte rendu",
            "act_date": "2026-03-12",
            "files": [(io.BytesIO(content), name)],
        },
    )
    assert r.status_code == 303


@pytest.fixture
def both(app, holder, make_share):
    """(holder's client, professional's client on a share that allows deposits, share id)."""
    client, account = holder
    sid, code, _ = make_share(account.patient_id, can_deposit=True)
    pro = app.test_client()
    assert use_code(pro, code).status_code == 303
    return client, pro, sid


def _content_urls(doc_id: str, sid: str) -> dict[str, list[str]]:
    """Every route that returns something of the document, holder's and professional's."""
    base, pro = f"/documents/{doc_id}", f"/pro/dossier/{sid}/documents/{doc_id}"
    tails = ["", "/apercu", "/plein-ecran", "/pages/1", "/pages/1?taille=grande", "/pages/2", "/telecharger"]
    return {"holder": [base + t for t in tails + ["/vignette"]], "pro": [pro + t for t in tails]}


def _fetch(client, url: str) -> list:
    """The response and every redirect it leads to (same origin), each checked on its own."""
    seen = []
    for _hop in range(5):
        r = client.get(url)
        seen.append((url, r))
        if r.status_code not in (301, 302, 303, 307, 308):
            break
        url = r.headers["Location"]
    return seen


def _is_pdf(r) -> bool:
    return r.get_data()[:1024].lstrip().startswith(b"%PDF") or r.mimetype == "application/pdf"


def _check_response(url: str, r, original: bytes) -> None:
    assert r.status_code < 500, url
    disposition = r.headers.get("Content-Disposition", "")
    if _is_pdf(r):
        assert disposition.startswith("attachment;"), f"{url}: a PDF served {disposition or 'with no disposition'}"
        assert r.headers["Content-Security-Policy"].startswith("sandbox")
        assert r.get_data() == original, f"{url}: the stored original is not byte-identical"
        return
    if r.mimetype == "text/html":
        html = r.get_data(as_text=True)
        assert not EMBEDS.search(html), f"{url}: the page embeds something: {EMBEDS.search(html).group(0)}"
        # Nothing on the page loads the original: no src/data/poster pointing to a download or the old preview.
        for attr in re.findall(r'\b(?:src|data|poster|srcset)="([^"]*)"', html):
            assert "/telecharger" not in attr and "/apercu" not in attr, f"{url}: the page loads {attr}"
    elif r.status_code == 200:
        assert r.mimetype in ("image/png", "image/jpeg"), f"{url}: {r.mimetype}"
        assert disposition.startswith("inline;") and "sandbox" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        Image.open(io.BytesIO(r.get_data())).verify()


def _page_images(html: str) -> list[str]:
    return re.findall(r'<img class="pdf-page-image"[^>]*>', html)


@pytest.mark.parametrize("added_by", ["holder", "professional"])
@pytest.mark.parametrize("sample", sorted(SCRIPTED))
def test_no_route_hands_a_scripted_pdf_to_a_browser_viewer(app, both, sample, added_by):
    client, pro, sid = both
    original = SCRIPTED[sample]
    if added_by == "holder":
        doc_id = _doc_id(
            client.post(
                "/documents/ajouter",
                content_type="multipart/form-data",
                data={
                    "csrf_token": csrf_token(client, "/documents"),
                    "category": "CPT_REND",
                    "title": "",
                    "act_date": "2026-03-12",
                    "files": [(io.BytesIO(original), "compte-rendu.pdf")],
                },
            )
        )
    else:
        _deposit(pro, sid, original, "compte-rendu.pdf")
        doc_id = documents_of(app)[0].id
    stored = documents_of(app)[0]
    assert stored.kind == "pdf" and stored.size == len(original)

    urls = _content_urls(doc_id, sid)
    problems = []
    for who, who_client in (("holder", client), ("pro", pro)):
        for url in urls[who]:
            for hop_url, r in _fetch(who_client, url):
                try:
                    _check_response(hop_url, r, original)
                except AssertionError as exc:
                    problems.append(str(exc).splitlines()[0])
    assert not problems, "\n".join(problems)

    # The document's page, the professional's, and full screen show the pages as images.
    pages_html = {
        "holder page": client.get(f"/documents/{doc_id}").get_data(as_text=True),
        "holder full screen": client.get(f"/documents/{doc_id}/plein-ecran").get_data(as_text=True),
        "pro page": pro.get(f"/pro/dossier/{sid}/documents/{doc_id}").get_data(as_text=True),
        "pro full screen": pro.get(f"/pro/dossier/{sid}/documents/{doc_id}/plein-ecran").get_data(as_text=True),
    }
    n_pages = 1 if sample == "link_and_widget" else 2
    for where, html in pages_html.items():
        images = _page_images(html)
        assert len(images) == n_pages, where
        assert all(
            re.search(r'src="[^"]*/pages/\d+(\?taille=grande)?"', img) and 'width="' in img and 'height="' in img
            for img in images
        ), where
        assert all('loading="lazy"' in img for img in images[1:]), where
        assert "/plein-ecran" in html or "full screen" in where
        for img in images:  # each image is a real drawing of its page
            src = re.search(r'src="([^"]+)"', img).group(1)
            who_client = pro if where.startswith("pro") else client
            drawn = Image.open(io.BytesIO(who_client.get(src).get_data())).convert("L")
            assert drawn.width >= 900 and drawn.getextrema()[0] < 100, f"{where}: {src} is blank"
    assert documents_of(app)[0].size == len(original)
    assert client.get(f"/documents/{doc_id}/telecharger").get_data() == original


def test_a_pdf_is_never_served_inline_even_by_mistake(app, holder, upload):

    client, _ = holder
    doc_id = _doc_id(upload(client, [(pdf_samples.multipage_pdf(1), "a.pdf")]))
    doc = documents_of(app)[0]
    with pytest.raises(ValueError):
        files.serve([b"%PDF-1.7"], doc, inline=True)
    with pytest.raises(ValueError):
        files.serve([b"%PDF-1.7"], doc, inline=True, mime="application/pdf", name="x.pdf")
    with pytest.raises(ValueError):  # an image made from a document: images only
        files.serve_image([b"%PDF-1.7"], "application/pdf", "x.pdf")
    assert client.get(f"/documents/{doc_id}/apercu").status_code == 302


# --------------------------------------------------------------------------- password-protected PDFs


def _flat(html: str) -> str:
    return html.replace(NBSP, " ").replace("\u202f", " ").replace("&#39;", "'").replace("’", "'")


def test_a_password_protected_pdf_is_told_at_upload_and_in_the_preview(app, both):
    client, pro, sid = both
    locked = pdf_samples.encrypted_pdf()
    r = client.post(
        "/documents/ajouter",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token(client, "/documents"),
            "category": "CPT_REND",
            "title": "Compte rendu IRM",
            "act_date": "2026-03-12",
            "files": [(io.BytesIO(locked), "irm.pdf")],
        },
    )
    doc_id = _doc_id(r)
    page = _flat(client.get(r.headers["Location"]).get_data(as_text=True))
    told = re.search(r'<div class="notice notice-warning" role="alert">.*?</div>', page, re.S)
    assert told and "protégé par un mot de passe" in told.group(0)
    assert "les professionnels auront besoin du mot de passe pour l'ouvrir" in told.group(0)
    message = "Ce PDF est protégé par un mot de passe : téléchargez-le pour l'ouvrir"
    assert message in page and not _page_images(page) and not EMBEDS.search(page)
    assert "/plein-ecran" not in page  # nothing to show in full screen
    assert client.get(f"/documents/{doc_id}/pages/1").status_code == 404
    assert client.get(f"/documents/{doc_id}/telecharger").get_data() == locked  # kept as it came
    again = _flat(client.get(f"/documents/{doc_id}").get_data(as_text=True))
    assert message in again and "auront besoin du mot de passe" not in again  # told once, at upload
    seen = _flat(pro.get(f"/pro/dossier/{sid}/documents/{doc_id}").get_data(as_text=True))
    assert message in seen and not _page_images(seen)
    assert pro.get(f"/pro/dossier/{sid}/documents/{doc_id}/pages/1").status_code == 404
    full = _flat(pro.get(f"/pro/dossier/{sid}/documents/{doc_id}/plein-ecran").get_data(as_text=True))
    assert message in full


def test_an_open_pdf_is_not_called_protected(app, holder, upload):
    client, _ = holder
    r = upload(client, [(pdf_samples.multipage_pdf(2), "cr.pdf")])
    page = _flat(client.get(r.headers["Location"]).get_data(as_text=True))
    assert "mot de passe" not in page and len(_page_images(page)) == 2


def test_a_professional_deposit_of_a_protected_pdf_is_told_to_the_professional(app, both):
    _client, pro, sid = both
    _deposit(pro, sid, pdf_samples.encrypted_pdf(), "bilan.pdf")
    listing = _flat(pro.get(f"/pro/dossier/{sid}/documents").get_data(as_text=True))
    assert "protégé par un mot de passe" in listing


# --------------------------------------------------------------------------- bounds and transactions


def test_rendering_never_runs_inside_a_write_transaction(app, both, monkeypatch):
    client, pro, sid = both
    states = []
    real = pages._run

    def spy(*args, **kwargs):
        session = core_db.db.session()
        states.append((session.in_transaction(), core_db._read_only.get(), bool(session.info.get("carnet_wrote"))))
        return real(*args, **kwargs)

    monkeypatch.setattr(pages, "_run", spy)
    doc_id = _doc_id(
        client.post(
            "/documents/ajouter",
            content_type="multipart/form-data",
            data={
                "csrf_token": csrf_token(client, "/documents"),
                "category": "CPT_REND",
                "title": "",
                "act_date": "2026-03-12",
                "files": [(io.BytesIO(pdf_samples.multipage_pdf(2)), "cr.pdf")],
            },
        )
    )
    _deposit(pro, sid, pdf_samples.multipage_pdf(1), "depot.pdf")
    for url in (f"/documents/{doc_id}", f"/documents/{doc_id}/pages/2", f"/documents/{doc_id}/plein-ecran"):
        assert client.get(url).status_code == 200
    for tail in ("", "/pages/1", "/plein-ecran"):
        assert pro.get(f"/pro/dossier/{sid}/documents/{doc_id}{tail}").status_code == 200
    # inspected at each upload (page 1 drawn then), then one drawing per later page's image: pages read no blob
    assert len(states) == 3
    with app.app_context():  # a document stored before layouts and first pages were: read on its first view
        core_db.db.session.execute(
            update(Document).where(Document.id == doc_id).values(pdf_layout=None, first_page=None)
        )
        core_db.db.session.commit()
    assert client.get(f"/documents/{doc_id}").status_code == 200
    assert client.get(f"/documents/{doc_id}/pages/1").status_code == 200
    assert len(states) == 5
    for in_transaction, read_only, wrote in states:
        assert not wrote
        assert not in_transaction or read_only, "PDFium ran while the request held a write transaction"


def test_a_hostile_pdf_costs_a_bounded_child_and_the_worker_goes_on(app, holder, upload):
    data = pdf_samples.multipage_pdf(1)
    with pytest.raises(pages.RenderError):
        pages._run("render", (1, "normal", 10), data, memory_mb=64)  # over its memory: the child fails, not us
    with pytest.raises(pages.RenderError):
        pages._run("render", (1, "grande", 10), data, timeout=0.001)  # past its deadline: killed
    assert pages.render(data, 1)[0] == "image/png"  # the next one is drawn as usual
    assert not [p for p in multiprocessing.active_children() if p.name == "pdf-pages"]
    with pytest.raises(pages.NoSuchPage):
        pages.render(data, 2)
    # A page far larger than any paper (ISO 32000's limit is 200 inches) is not drawn.
    client, _ = holder
    giant = pdf_samples.build(
        {
            1: b"<< /Type /Catalog /Pages 2 0 R >>",
            2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200000 200000] >>",
        }
    )
    doc_id = _doc_id(upload(client, [(giant, "geant.pdf")]))
    page = _flat(client.get(f"/documents/{doc_id}").get_data(as_text=True))
    assert "Carnet ne peut pas afficher ce PDF" in page and not _page_images(page)
    assert client.get(f"/documents/{doc_id}/pages/1").status_code == 404
    assert client.get(f"/documents/{doc_id}/telecharger").get_data() == giant


def test_a_long_pdf_lists_its_first_pages_and_says_so(app, holder, upload, monkeypatch):
    monkeypatch.setattr(pages, "MAX_PAGES", 3)
    client, _ = holder
    doc_id = _doc_id(upload(client, [(pdf_samples.multipage_pdf(5), "long.pdf")]))
    page = _flat(client.get(f"/documents/{doc_id}").get_data(as_text=True))
    assert len(_page_images(page)) == 3 and "3 premières pages sur 5" in page
    assert client.get(f"/documents/{doc_id}/pages/3").status_code == 200
    assert client.get(f"/documents/{doc_id}/pages/4").status_code == 404


# --------------------------------------------------------------------------- traces


def test_a_professional_view_is_traced_once_not_per_page_image(app, both):
    client, pro, sid = both
    doc_id = _doc_id(
        client.post(
            "/documents/ajouter",
            content_type="multipart/form-data",
            data={
                "csrf_token": csrf_token(client, "/documents"),
                "category": "CPT_REND",
                "title": "",
                "act_date": "2026-03-12",
                "files": [(io.BytesIO(pdf_samples.multipage_pdf(3)), "cr.pdf")],
            },
        )
    )
    before = len(events(app))
    html = pro.get(f"/pro/dossier/{sid}/documents/{doc_id}").get_data(as_text=True)
    for src in re.findall(r'<img class="pdf-page-image" src="([^"]+)"', html):
        assert pro.get(src).status_code == 200
        assert pro.get(src + "?taille=grande").status_code == 200
    traced = [(e.action, e.detail.get("page") or e.detail.get("how")) for e in events(app)[before:]]
    assert traced == [("record_viewed", "document"), ("document_opened", "preview")]
    pro.get(f"/pro/dossier/{sid}/documents/{doc_id}/plein-ecran")
    traced = [(e.action, e.detail.get("how"), e.grant_id) for e in events(app)[before + 2 :]]
    assert traced == [("document_opened", "preview", sid)]
