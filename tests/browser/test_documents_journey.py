"""The documents of a holder on a phone, in Chromium: add two files at once (a PDF and a
photo carrying its GPS position), find them again by category and by typing, open one, hide
it from professionals, delete it after the in-page confirmation, then read every step in
the access history. A second journey hides several documents at once from the list.

Screenshots of the documents screens and of the history, on a phone and on a large screen,
are saved in tests/screenshots/. Every journey fails on a JavaScript error or a Content
Security Policy violation seen by its pages."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login, settled

pytestmark = pytest.mark.browser

ACT_DATE = date(2025, 11, 4)
ACT_DAY = "4 novembre 2025"  # as the pages write it
CATEGORY = "Résultats de biologie"
#: A real photo as an orientation-tagged camera writes it (tests/documents/fixtures/README.md).
PHOTO = Path(__file__).resolve().parent.parent / "documents" / "fixtures" / "photo-paysage-orientation-6.jpg"
#: Three pages as a fax server writes them (CCITT G3, 204 x 196 dpi).
FAX = PHOTO.with_name("fax-3-pages-g3.tif")
OTHER_CATEGORY = "Ordonnances et soins"


# --- real files, made here ----------------------------------------------------------------------


def pdf_file(name: str) -> dict:
    """A one-page PDF (a white page with a dark band), as a scanner would make."""
    page = Image.new("RGB", (420, 594), (255, 255, 255))
    page.paste((30, 60, 90), (40, 40, 380, 90))
    out = io.BytesIO()
    page.save(out, "PDF", resolution=72)
    return {"name": name, "mimeType": "application/pdf", "buffer": out.getvalue()}


def jpeg_with_gps(name: str) -> dict:
    """A phone photo: a JPEG whose EXIF says where it was taken (Paris, 48°51′24″ N)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 12"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 21.0, 3.0)
    photo = Image.new("RGB", (480, 640), (235, 238, 240))
    photo.paste((40, 90, 160), (60, 80, 420, 140))
    out = io.BytesIO()
    photo.save(out, "JPEG", exif=exif, quality=85)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo), "the sample must carry GPS"
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def text_file(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "text/plain", "buffer": text.encode()}


# --- steps --------------------------------------------------------------------------------------


def logged_in(browser, base_url, live_app, new_holder, problems, viewport=PHONE):
    holder = new_holder()
    context = new_context(browser, base_url, viewport, problems)
    page = context.new_page()
    password_login(page, live_app, holder)
    return context, page, holder


def add_documents(
    page, files: list[dict], category: str, act_date: date = ACT_DATE, title: str = "", before_send=None
) -> None:
    """The add form: files from this device, a category, the date of the act, send."""
    page.goto("/documents/ajouter")
    form = page.locator("#doc-add")
    form.locator("input[type=file][name=files]").set_input_files(files)
    expect(form.locator("input[name=title]")).to_have_value("")  # left empty, the server names it after the file
    form.locator("select[name=category]").select_option(label=category)
    if title:
        form.locator("input[name=title]").fill(title)
    form.locator("input[name=act_date]").fill(act_date.isoformat())
    if before_send is not None:
        before_send(page)
    form.locator("button[type=submit]").click()


def slow_upload(cdp, on: bool) -> None:
    """A slow mobile uplink (about 8 kB/s): the upload of the two files takes close to two seconds."""
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 40 if on else 0,
            "downloadThroughput": -1,
            "uploadThroughput": 8 * 1024 if on else -1,
        },
    )


def rows(page):
    return page.locator("#doc-list .doc-row")


def row(page, title: str):
    return rows(page).filter(has=page.locator(".list-title", has_text=re.compile(rf"^{re.escape(title)}$")))


def no_horizontal_overflow(page) -> None:
    """Nothing wider than the screen, except inside a row made to scroll sideways (the
    category chips), which itself fits."""
    wide = page.evaluate("""() => {
        const limit = document.documentElement.clientWidth;
        const scrolls = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
            if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return p; } return null; };
        return [...document.querySelectorAll('body *')]
          .filter(e => { const r = e.getBoundingClientRect();
                         return r.width > 0 && r.right > limit + 1 && getComputedStyle(e).position !== 'fixed'; })
          .filter(e => !e.closest('.visually-hidden, .skip-link'))
          .filter(e => { const box = scrolls(e); return !box || box.getBoundingClientRect().right > limit + 1; })
          .map(e => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className ? '.' + e.className.split(' ').join('.') : ''))
          .slice(0, 5);
    }""")
    assert wide == [], f"wider than the screen on {page.url}: {wide}"


def snap(page, name: str, size: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    expect(page.locator("main h1")).to_be_visible()
    no_horizontal_overflow(page)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}.png"), animations="disabled", caret="initial")
    page.screenshot(
        path=str(SCREENSHOTS / f"{name}-{size}-full.png"), full_page=True, animations="disabled", caret="initial"
    )


def history_sentences(page) -> list[str]:
    page.goto("/historique")
    expect(page.locator("main h1")).to_have_text("Historique des accès")
    return [" ".join(t.split()) for t in page.locator(".history-list .list-title").all_inner_texts()]


# --- the journeys -------------------------------------------------------------------------------


def test_add_find_open_hide_delete_then_read_the_history(browser, base_url, live_app, new_holder, problems):
    context, page, holder = logged_in(browser, base_url, live_app, new_holder, problems)
    try:
        # No document yet: the page explains and offers to add one.
        page.goto("/documents")
        empty = page.locator("main .empty-state")
        expect(empty).to_contain_text("Aucun document pour l’instant")
        expect(empty.get_by_role("link", name="Ajouter un document")).to_be_visible()
        snap(page, "documents-empty", "phone")

        # A prescription first, in another category, so that filtering has something to leave out.
        add_documents(
            page, [text_file("ordonnance-pharmacie.txt", "Paracétamol 1 g, 3 fois par jour.\n")], OTHER_CATEGORY
        )
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"))
        expect(page.locator("#flashes")).to_contain_text("Document ajouté.")

        # Two files at once, a PDF and a photo, sent over a slow mobile connection: the
        # progress bar shows the upload going, then the list shows both.
        page.goto("/documents/ajouter")
        snap(page, "documents-add", "phone")
        cdp = context.new_cdp_session(page)
        add_documents(
            page,
            [pdf_file("bilan-sanguin_novembre.pdf"), jpeg_with_gps("photo-analyses.jpg")],
            CATEGORY,
            before_send=lambda p: slow_upload(cdp, True),
        )
        bar = page.locator("#doc-add progress[data-upload-progress]")
        expect(bar).to_be_visible()
        expect(page.locator("#doc-add button[type=submit]")).to_be_disabled()
        page.wait_for_function(
            "() => { const b = document.querySelector('[data-upload-progress]'); return !b || b.value > 0; }"
        )
        slow_upload(cdp, False)
        # The server checks the PDF and draws its thumbnail in a child process (the first one
        # starts the fork server): more than a moment on a busy machine.
        expect(page).to_have_url(re.compile(r"/documents$"), timeout=30_000)
        expect(page.locator("#flashes")).to_contain_text("2 documents ajoutés.")
        expect(rows(page)).to_have_count(3)
        expect(page.locator("#doc-list .doc-month h2").first).to_have_text("Novembre 2025")
        for title in ("Bilan sanguin novembre", "Photo analyses"):
            expect(row(page, title).locator(".list-meta")).to_have_text(
                re.compile(rf"^{CATEGORY} · {ACT_DAY} · .*{re.escape(holder.family_name)}$")
            )
        # The photo has a thumbnail, which loads.
        thumb = row(page, "Photo analyses").locator("img.doc-thumb")
        expect(thumb).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
        snap(page, "documents-list", "phone")

        # Filter by a category chip.
        chips = page.locator("#doc-results .chips")
        expect(chips.locator(".chip", has_text="Tous")).to_contain_text("3")
        chips.locator(".chip", has_text=CATEGORY).click()
        expect(page).to_have_url(re.compile(r"categorie=BIOLOGIE"))
        expect(chips.locator(".chip[aria-current=true]")).to_contain_text(CATEGORY)
        expect(rows(page)).to_have_count(2)
        expect(row(page, "Ordonnance pharmacie")).to_have_count(0)
        settled(page)

        # Search as you type, within the category: the results follow the keys.
        search = page.locator("#doc-q")
        search.press_sequentially("bilan", delay=40)
        expect(page).to_have_url(re.compile(r"q=bilan"))
        expect(rows(page)).to_have_count(1)
        expect(rows(page).locator(".list-title")).to_have_text("Bilan sanguin novembre")
        expect(chips.locator(".chip[aria-current=true]")).to_contain_text(CATEGORY)
        search.fill("introuvable")
        expect(page.locator("#doc-results .empty-state")).to_contain_text("Aucun document trouvé")
        search.fill("photo")
        expect(rows(page)).to_have_count(1)

        # Open the photo: its category, date and size, and the preview.
        rows(page).locator("a.doc-link").click()
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"))
        doc_url = page.url
        details = page.locator("#doc-details")
        expect(details.locator("h1")).to_have_text("Photo analyses")
        expect(details.locator(".doc-flags")).to_contain_text(CATEGORY)
        expect(details.locator(".doc-flags")).to_contain_text("Visible par les professionnels")
        expect(details.locator("dl.identity")).to_contain_text(ACT_DAY)
        expect(details.locator("dl.identity")).to_contain_text(re.compile(r"photo-analyses\.jpg · \d+\sKo"))
        preview = page.locator(".doc-preview img.doc-image")
        expect(preview).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=preview.element_handle())
        expect(page.locator(".doc-preview").get_by_role("link", name="Télécharger")).to_be_visible()

        # What is stored is the photo without the place it was taken.
        served = context.request.get(doc_url + "/telecharger")
        assert served.ok
        stored = Image.open(io.BytesIO(served.body()))
        assert stored.size == (480, 640)
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the GPS position must be removed"
        snap(page, "document-page", "phone")

        # Hide it from professionals: the page says so in words, and so does the list.
        details.get_by_role("button", name="Masquer aux professionnels").click()
        expect(details.locator(".doc-flags .badge-warning")).to_have_text("Masqué")
        expect(details.locator("dl.identity")).to_contain_text("Masqué aux professionnels")
        expect(page.locator("#flashes")).to_contain_text("Document masqué aux professionnels.")
        expect(details.get_by_role("button", name="Rendre visible aux professionnels")).to_be_visible()
        page.go_back()  # Back to the search results, asked again from the server
        expect(page).to_have_url(re.compile(r"/documents\?.*q=photo"))
        expect(row(page, "Photo analyses").locator(".badge-warning")).to_have_text("Masqué")
        expect(row(page, "Photo analyses")).to_have_class(re.compile(r"\bis-hidden\b"))
        page.goto("/documents")
        expect(row(page, "Photo analyses").locator(".badge-warning")).to_have_text("Masqué")
        expect(row(page, "Bilan sanguin novembre").locator(".badge-warning")).to_have_count(0)

        # Delete it, after the confirmation that says what will be lost.
        page.goto(doc_url)
        danger = page.locator(".doc-danger")
        panel = danger.locator(".confirm-panel")
        expect(panel).to_be_hidden()
        danger.get_by_role("button", name="Supprimer ce document").click()
        expect(panel).to_be_visible()
        expect(panel).to_contain_text("Supprimer « Photo analyses » ?")
        expect(panel).to_contain_text("ne pourra plus être récupéré")
        panel.get_by_role("button", name="Supprimer définitivement").click()
        expect(page).to_have_url(re.compile(r"/documents$"))
        expect(page.locator("#flashes")).to_contain_text("« Photo analyses » a été supprimé")
        expect(rows(page)).to_have_count(2)
        expect(row(page, "Photo analyses")).to_have_count(0)
        assert context.request.get(doc_url).status == 404

        # The history traces every step, in plain French.
        sentences = history_sentences(page)
        for expected in (
            "Document ajouté : « Ordonnance pharmacie »",
            "Document ajouté : « Bilan sanguin novembre »",
            "Document ajouté : « Photo analyses »",
            "Document consulté : « Photo analyses »",
            "Document téléchargé : « Photo analyses »",
            "Document masqué aux professionnels : « Photo analyses »",
            "Document supprimé : « Photo analyses »",
        ):
            assert expected in sentences, f"{expected!r} not in the history: {sentences}"
        # Newest first: deleted, hidden, opened (first opened before it was hidden), added.
        opened = [i for i, s in enumerate(sentences) if s == "Document consulté : « Photo analyses »"]
        order = [
            sentences.index("Document supprimé : « Photo analyses »"),
            sentences.index("Document masqué aux professionnels : « Photo analyses »"),
            opened[-1],
            sentences.index("Document ajouté : « Photo analyses »"),
        ]
        assert order == sorted(order), sentences
        first = page.locator(".history-list .history-row").first
        expect(first.locator(".history-who")).to_contain_text("Vous")
        expect(first.locator("time")).to_contain_text(re.compile(r"^aujourd’hui à \d{1,2}\sh\s\d{2}$"))
        snap(page, "history", "phone")

        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()


def test_hide_several_documents_from_the_list(browser, base_url, live_app, new_holder, problems):
    context, page, _holder = logged_in(browser, base_url, live_app, new_holder, problems)
    try:
        add_documents(
            page,
            [
                text_file("compte-rendu-cardiologie.txt", "Examen normal.\n"),
                text_file("radio-genou.txt", "Pas de fracture.\n"),
                text_file("vaccin-grippe.txt", "Vaccin fait.\n"),
            ],
            "Comptes rendus",
        )
        expect(page).to_have_url(re.compile(r"/documents$"))
        expect(rows(page)).to_have_count(3)

        # Nothing selected: the bar says what to do.
        bar = page.locator(".bulk-bar")
        bar.get_by_role("button", name="Masquer aux professionnels").click()
        expect(page.locator("#flashes")).to_contain_text("Sélectionnez d’abord au moins un document.")

        for title in ("Compte rendu cardiologie", "Radio genou"):
            row(page, title).locator("input[type=checkbox]").check()
        expect(bar).to_be_in_viewport()
        bar.get_by_role("button", name="Masquer aux professionnels").click()
        expect(page.locator("#flashes")).to_contain_text("2 documents masqués aux professionnels.")
        for title in ("Compte rendu cardiologie", "Radio genou"):
            expect(row(page, title).locator(".badge-warning")).to_have_text("Masqué")
            expect(row(page, title).locator("input[type=checkbox]")).not_to_be_checked()
        expect(row(page, "Vaccin grippe").locator(".badge-warning")).to_have_count(0)
        snap(page, "documents-hidden", "phone")

        # And back: one of them visible again.
        row(page, "Radio genou").locator("input[type=checkbox]").check()
        bar.get_by_role("button", name="Rendre visible aux professionnels").click()
        expect(page.locator("#flashes")).to_contain_text("1 document de nouveau visible par les professionnels.")
        expect(row(page, "Radio genou").locator(".badge-warning")).to_have_count(0)
        expect(row(page, "Compte rendu cardiologie").locator(".badge-warning")).to_have_text("Masqué")

        sentences = history_sentences(page)
        for expected in (
            "Document masqué aux professionnels : « Compte rendu cardiologie »",
            "Document masqué aux professionnels : « Radio genou »",
            "Document de nouveau visible par les professionnels : « Radio genou »",
        ):
            assert expected in sentences, f"{expected!r} not in the history: {sentences}"
        assert not any("Vaccin grippe" in s and "masqué" in s for s in sentences)
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()


def test_documents_screenshots_on_a_large_screen(browser, base_url, live_app, new_holder, problems):
    """The same screens as the phone journey, at 1280×800."""
    context, page, _holder = logged_in(browser, base_url, live_app, new_holder, problems, DESKTOP)
    try:
        page.goto("/documents")
        expect(page.locator("main .empty-state")).to_be_visible()
        snap(page, "documents-empty", "desktop")
        page.goto("/documents/ajouter")
        snap(page, "documents-add", "desktop")
        add_documents(page, [pdf_file("bilan-sanguin_novembre.pdf"), jpeg_with_gps("photo-analyses.jpg")], CATEGORY)
        expect(rows(page)).to_have_count(2)
        add_documents(
            page, [text_file("ordonnance-pharmacie.txt", "Paracétamol 1 g, 3 fois par jour.\n")], OTHER_CATEGORY
        )
        expect(page.locator("#doc-details h1")).to_have_text("Ordonnance pharmacie")
        page.goto("/documents")
        expect(rows(page)).to_have_count(3)
        snap(page, "documents-list", "desktop")
        row(page, "Photo analyses").locator("a.doc-link").click()
        expect(page.locator(".doc-preview img.doc-image")).to_be_visible()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=page.locator(".doc-preview img.doc-image").element_handle(),
        )
        snap(page, "document-page", "desktop")
        history_sentences(page)
        snap(page, "history", "desktop")
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()


@pytest.mark.parametrize("size, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_phone_photo_is_shown_from_its_drawing(browser, base_url, live_app, new_holder, problems, size, viewport):
    """A photo taken with the phone turned (1,800 px, orientation 6), sent through the camera
    field: its page shows the 1,000 px drawing, the right way up, and axe finds nothing."""
    context, page, _holder = logged_in(browser, base_url, live_app, new_holder, problems, viewport)
    try:
        page.goto("/documents/ajouter")
        form = page.locator("#doc-add")
        form.locator("input[type=file][name=photo]").set_input_files(
            {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": PHOTO.read_bytes()}
        )
        form.locator("select[name=category]").select_option(label=OTHER_CATEGORY)
        form.locator("input[name=act_date]").fill(ACT_DATE.isoformat())
        form.locator("button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"))
        image = page.locator(".doc-preview img.doc-image")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert image.evaluate("img => img.currentSrc").endswith("/apercu?taille=normal")
        box = image.bounding_box()
        assert box["width"] > box["height"], "a landscape photo is shown as a landscape"
        snap(page, "document-photo", size)
        assert problems.problems() == [], "\n".join(problems.problems())  # axe's findings among them
    finally:
        context.close()


@pytest.mark.parametrize("size, viewport", [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_fax_in_tiff_is_shown_page_by_page(browser, base_url, live_app, new_holder, problems, size, viewport):
    """A fax of three pages (TIFF, which no browser shows) sent through the files field: its page
    shows its pages drawn on the server, each a picture the browser has loaded, and axe finds
    nothing."""
    context, page, _holder = logged_in(browser, base_url, live_app, new_holder, problems, viewport)
    try:
        add_documents(
            page,
            [{"name": "fax-laboratoire.tif", "mimeType": "image/tiff", "buffer": FAX.read_bytes()}],
            "Résultats de biologie",
        )
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"), timeout=30_000)
        images = page.locator(".doc-preview img.pdf-page-image")
        expect(images).to_have_count(3)
        expect(page.get_by_text("Aperçu réduit")).to_have_count(0)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=images.first.element_handle())
        box = images.first.bounding_box()
        assert 1.25 < box["height"] / box["width"] < 1.35, "a page in the fax's proportions"
        snap(page, "document-fax", size)
        images.nth(1).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=images.nth(1).element_handle())
        assert problems.problems() == [], "\n".join(problems.problems())  # axe's findings among them
    finally:
        context.close()


def test_a_pdf_that_carries_scripts_shows_its_pages_and_no_dialog(browser, base_url, live_app, new_holder, problems):
    """A PDF whose /OpenAction, page /AA and link carry app.alert(): the document page and full
    screen show its pages as images, zoom opens a larger one, and no dialog ever appears."""
    from tests.documents import pdf_samples

    context, page, _holder = logged_in(browser, base_url, live_app, new_holder, problems, DESKTOP)
    dialogs = []
    context.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        scripted = pdf_samples.text_pdf(
            pdf_samples.report(3),
            catalog_extra=b" /OpenAction 5 0 R",
            page_extra={0: b" /AA << /O 5 0 R >>"},
            extra_objects={5: b"<< /S /JavaScript /JS (app.alert\\('Carnet'\\);) >>"},
        )
        add_documents(
            page, [{"name": "compte-rendu.pdf", "mimeType": "application/pdf", "buffer": scripted}], "Comptes rendus"
        )
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"), timeout=30_000)
        images = page.locator(".doc-preview img.pdf-page-image")
        expect(images).to_have_count(3)
        expect(page.locator("iframe, embed, object")).to_have_count(0)
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=images.first.element_handle())
        expect(images.nth(2)).to_have_attribute("loading", "lazy")
        with context.expect_page() as opened:
            page.get_by_role("link", name="Ouvrir en plein écran").click()
        full = opened.value
        full.wait_for_load_state()
        expect(full.locator("img.pdf-page-image")).to_have_count(3)
        expect(full.locator("iframe, embed, object")).to_have_count(0)
        full.close()
        # Zoom: a page opens full screen at that page, drawn twice as large.
        page.locator("a.pdf-page-link").nth(1).click()
        expect(page).to_have_url(re.compile(r"/plein-ecran#page-2$"))
        second = page.locator("#page-2 img.pdf-page-image")
        expect(second).to_be_in_viewport()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0 && img.currentSrc.endsWith('taille=grande')",
            arg=second.element_handle(),
        )
        assert dialogs == [], dialogs
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()
