"""What a new user meets on a phone and at a desk: no Content Security Policy violation on any
main page (holder, professional, public), the new share's page (code on one line, actions
before the QR code, "Done" asking once more), the documents bulk bar, the step-up
confirmation bringing the person back to the form that asked for it, and addresses that
match the page shown after a deletion or a deposit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DESKTOP, PHONE, SCREENSHOTS, new_context, password_login, settled
from tests.browser.test_documents_journey import add_documents, logged_in, row, rows, text_file

pytestmark = pytest.mark.browser

HOLDER_PAGES = [
    "/",
    "/documents",
    "/documents/ajouter",
    "/profil",
    "/profil/administratif",
    "/profil/resume",
    "/constantes",
    "/constantes/ajouter",
    "/constantes/poids",
    "/constantes/importer",
    "/partage",
    "/partage/nouveau",
    "/historique",
    "/compte",
    "/compte/cles-d-acces",
    "/compte/mot-de-passe",
]
PUBLIC_PAGES = ["/connexion", "/activation", "/pro/acces", "/demo/courriels"]
CSP_WATCH = (
    "document.addEventListener('securitypolicyviolation', function (e) {"
    " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI"
    " + ' at ' + e.sourceFile + ':' + e.lineNumber); }, true);"
)


def _watch_csp(context, page) -> list[str]:
    """Every violation the page reports (event or Chromium's own console line)."""
    seen: list[str] = []
    context.add_init_script(CSP_WATCH)
    page.on(
        "console",
        lambda m: (
            seen.append(f"{page.url}: {m.text}")
            if "CSP violation" in m.text or "Content Security Policy" in m.text
            else None
        ),
    )
    return seen


def _visit(page, path: str) -> None:
    page.goto(path)
    expect(page.locator("main h1").first).to_be_visible()
    page.wait_for_load_state("networkidle")


def _make_share(page, can_deposit: bool = False) -> str:
    page.goto("/partage/nouveau")
    form = page.locator("#share-form")
    if can_deposit:  # the whole record, deposits allowed
        form.locator("input[name=measures]").check()
        form.locator("input[name=can_deposit]").check()
    form.locator("button[type=submit]").click()
    label = page.locator(".share-code").get_attribute("aria-label")
    return re.sub(r"[\s\u00a0]", "", label.split(":", 1)[1])


def test_no_page_breaks_the_content_security_policy(browser, base_url, live_app, new_holder, problems):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = new_context(browser, base_url, PHONE, problems)
    desk = new_context(browser, base_url, DESKTOP, problems)
    try:
        page = phone.new_page()
        seen = _watch_csp(phone, page)
        for path in PUBLIC_PAGES:
            _visit(page, path)
        holder = new_holder()
        password_login(page, live_app, holder)
        add_documents(page, [text_file("ordonnance.txt", "Paracétamol.\n")], "Ordonnances et soins")
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"))
        doc_page = page.url.removeprefix(base_url)
        for path in HOLDER_PAGES + [doc_page]:
            _visit(page, path)
        # an inline edit form of the administrative page, as htmx swaps it in
        _visit(page, "/profil/administratif")
        page.locator("#block-contact").get_by_role("link", name="Modifier").click()
        expect(page.locator("#block-contact form")).to_be_visible()
        # a refused share form reached from the sharing page: htmx swaps the 422 in place, and its
        # settling must not write a style attribute (the policy forbids inline styles)
        _visit(page, "/partage")
        _visit(page, "/partage/nouveau")
        refused = page.locator("#share-form")
        refused.locator("input[name=documents][value=categories]").check()
        refused.locator("button[type=submit]").click()
        expect(page.locator("#share-form .field-error").first).to_be_visible()
        page.wait_for_load_state("networkidle")
        code = _make_share(page, can_deposit=True)

        # the professional side, with that code, at a desk
        pro = desk.new_page()
        seen += _watch_csp(desk, pro)
        pro.goto("/pro/acces")
        access = pro.locator("#pro-access-form")
        access.locator("input[name=code]").fill(code)
        access.locator("input[name=given_name]").fill("Louis")
        access.locator("input[name=family_name]").fill("Pasteur")
        access.locator("select[name=profession]").select_option("medecin")
        access.locator("input[name=rpps]").fill("10000000042")
        access.locator("button[type=submit]").click()
        expect(pro).to_have_url(re.compile(r"/pro/dossier/[0-9a-f-]{36}$"))
        record = pro.url.removeprefix(base_url)
        for sub in ("", "/documents", "/resume", "/mesures", "/deposer"):
            _visit(pro, record + sub)

        # a deposit: the address is then the list it shows, and a reload shows it again
        deposit = pro.locator("#pro-deposit")
        deposit.locator("input[type=file][name=files]").set_input_files(
            text_file("compte-rendu.txt", "Consultation du jour.\n")
        )
        deposit.locator("input[name=title]").fill("Compte rendu du jour")
        deposit.locator("button[type=submit]").click()
        expect(pro).to_have_url(re.compile(rf"{re.escape(record)}/documents$"))
        expect(pro.locator("main")).to_contain_text("Compte rendu du jour")
        pro.reload()
        expect(pro).to_have_url(re.compile(rf"{re.escape(record)}/documents$"))
        expect(pro.locator("#pro-deposit")).to_have_count(0)
        expect(pro.locator("main")).to_contain_text("Compte rendu du jour")

        assert seen == [], "\n".join(seen)
        unexpected = [p for p in problems.problems() if "status of 422" not in p]  # the refused form's answer
        assert unexpected == [], "\n".join(unexpected)
    finally:
        phone.close()
        desk.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_new_share_page_keeps_its_actions_in_reach(browser, base_url, live_app, new_holder, problems, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = PHONE if size == "phone" else DESKTOP
    context, page, _holder = logged_in(browser, base_url, live_app, new_holder, problems, viewport)
    try:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
        code = _make_share(page)
        assert re.fullmatch(r"[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}", code)
        groups = page.locator(".share-code-group")
        expect(groups).to_have_count(3)
        tops = {round(groups.nth(i).bounding_box()["y"]) for i in range(3)}
        assert len(tops) == 1, f"the code runs on {len(tops)} lines"
        # print, copy and "Done" are on the first screen, above the QR code
        height = viewport["viewport"]["height"]
        bottom_bar = page.locator(".bottomnav")
        limit = bottom_bar.bounding_box()["y"] if size == "phone" else height
        done = page.locator("#share-done a")
        for button in (page.get_by_role("button", name="Imprimer"), page.get_by_role("button", name="Copier"), done):
            box = button.bounding_box()
            assert box and box["y"] + box["height"] <= limit, f"{button} is below the first screen"
        assert done.bounding_box()["y"] < page.locator(".share-qr").bounding_box()["y"]
        page.screenshot(path=str(SCREENSHOTS / f"sharing-created-{size}.png"), animations="disabled")

        # neither printed nor copied: "Done" asks once more, in the page
        done.click()
        question = page.locator("#share-done [role=alert]")
        expect(question).to_contain_text("Vous n’avez ni imprimé ni copié ce code")
        expect(page).to_have_url(re.compile(r"/partage/nouveau$"))
        settled(page)
        page.screenshot(path=str(SCREENSHOTS / f"sharing-done-question-{size}.png"), animations="disabled")
        page.get_by_role("link", name="Revenir au code").click()
        expect(question).to_have_count(0)
        expect(page.locator(".share-code")).to_be_visible()
        settled(page)

        # copied: "Done" goes straight to the shares
        page.get_by_role("button", name="Copier").click()
        expect(page.get_by_role("button", name="Code copié")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()").replace("-", "") == code.replace("-", "")
        page.locator("#share-done a").click()
        expect(page).to_have_url(re.compile(r"/partage(#partages)?$"))
        expect(page.locator("main h1")).to_have_text("Partage")
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_bulk_bar_counts_and_leaves_the_rows_visible(browser, base_url, live_app, new_holder, problems, size):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = PHONE if size == "phone" else DESKTOP
    context, page, _holder = logged_in(browser, base_url, live_app, new_holder, problems, viewport)
    try:
        titles = [f"Compte rendu {n}" for n in range(1, 9)]
        add_documents(
            page, [text_file(f"compte-rendu-{n}.txt", f"Examen {n}.\n") for n in range(1, 9)], "Comptes rendus"
        )
        expect(page).to_have_url(re.compile(r"/documents$"))
        expect(rows(page)).to_have_count(8)
        count = page.locator("[data-bulk-count]")
        expect(count).to_have_text("Aucun document sélectionné")
        row(page, titles[0]).locator("input[type=checkbox]").check()
        expect(count).to_have_text("1 document sélectionné")
        row(page, titles[1]).locator("input[type=checkbox]").check()
        expect(count).to_have_text("2 documents sélectionnés")
        page.screenshot(path=str(SCREENSHOTS / f"documents-bulk-{size}.png"), animations="disabled")
        # at the end of the list, the last row sits wholly above the bar
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        bar = page.locator(".bulk-bar").bounding_box()
        last = rows(page).last.bounding_box()
        assert last["y"] + last["height"] <= bar["y"] + 1, (last, bar)
        # the category chips fade out where more follow
        mask = page.locator(".chips").evaluate(
            "e => getComputedStyle(e).maskImage || getComputedStyle(e).webkitMaskImage"
        )
        assert "gradient" in mask
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        context.close()


def test_confirmation_returns_to_the_form_that_asked_and_a_deletion_to_the_list(
    browser, base_url, live_app, new_holder, problems
):
    from core import clock

    context, page, holder = logged_in(browser, base_url, live_app, new_holder, problems)
    try:
        clock.advance(timedelta(minutes=6))  # the login is no longer fresh
        page.goto("/profil/administratif")
        page.locator("#block-identity").get_by_role("link", name="Modifier").click()
        expect(page).to_have_url(re.compile(r"/compte/confirmer\?next="))
        page.locator("#confirm-form input[name=password]").fill(holder.password)
        page.locator("#confirm-form button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/profil/identite/modifier$"))
        expect(page.locator("main form input[name=nir]")).to_be_visible()

        add_documents(page, [text_file("radio.txt", "Radio.\n")], "Comptes rendus")
        expect(page).to_have_url(re.compile(r"/documents/[0-9a-f-]{32,36}$"))
        page.locator(".doc-danger").get_by_role("button", name="Supprimer ce document").click()
        page.locator(".doc-danger .confirm-panel").get_by_role("button", name="Supprimer définitivement").click()
        expect(page).to_have_url(re.compile(r"/documents$"))
        expect(page.locator("#flashes")).to_contain_text("a été supprimé")
        page.reload()
        expect(page).to_have_url(re.compile(r"/documents$"))
        expect(page.locator("main h1")).to_have_text("Documents")
        assert problems.problems() == [], "\n".join(problems.problems())
    finally:
        clock.reset()
        context.close()
