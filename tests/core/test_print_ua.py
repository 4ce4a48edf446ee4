"""core/print_ua.css, the user-agent stylesheet "Ma synthèse" and the emergency card are laid
out with (core.weasy.CarnetUaHTML): it styles every element those pages use, and the pages
print the same pixels as with WeasyPrint's own stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2
import tinycss2

from core import pdf, weasy
from tests.summary.record import fill, post
from tests.summary.test_synthesis import card, pdf_of

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ["templates/profile/synthesis/print_a4.html", "templates/profile/synthesis/print_card.html"]
NO_RULE_NEEDED = {"span"}  # inline, unstyled by any user-agent stylesheet


def _styled_elements() -> set[str]:
    rules = tinycss2.parse_stylesheet((ROOT / "core/print_ua.css").read_text(), skip_comments=True)
    names = set()
    for rule in rules:
        if rule.type == "qualified-rule":
            names |= set(re.findall(r"(?<![-.:\w])([a-z][a-z0-9]*)", tinycss2.serialize(rule.prelude)))
    return names


def test_every_element_of_the_pages_is_in_the_stylesheet():
    used = set()
    for name in TEMPLATES:
        used |= set(re.findall(r"<([a-z][a-z0-9]*)", (ROOT / name).read_text()))
    used |= {"svg"}  # the charts and the QR code, inserted whole
    assert used, "the templates name their elements"
    assert used - NO_RULE_NEEDED <= _styled_elements(), used - NO_RULE_NEEDED - _styled_elements()


def _pixels(data: bytes) -> list[bytes]:
    document = pypdfium2.PdfDocument(data)
    try:
        return [document[i].render(scale=1).to_pil().tobytes() for i in range(len(document))]
    finally:
        document.close()


def test_the_pages_print_the_same_pixels_as_with_weasyprints_stylesheet(app, holder, make_measure, monkeypatch):
    client, account = holder
    fill(client, make_measure, account)
    post(client, "/profil/handicaps/ajouter", label="Fauteuil roulant", note="Accès de plain-pied")
    pages = []
    real = pdf.html_to_pdf

    def capture(html, static_folder, *args, **kwargs):
        pages.append((html, kwargs))
        return real(html, static_folder, *args, **kwargs)

    monkeypatch.setattr(pdf, "html_to_pdf", capture)
    pdf_of(client.get("/profil/synthese/pdf"))
    pdf_of(card(client))
    assert [kwargs.get("carnet_ua") for _html, kwargs in pages] == [True, True]
    for html, kwargs in pages:
        files = kwargs.get("files")
        own = _pixels(weasy.write_pdf(html, app.static_folder, carnet_ua=True, files=files))
        theirs = _pixels(weasy.write_pdf(html, app.static_folder, carnet_ua=False, files=files))
        assert len(own) == len(theirs) >= 1
        assert own == theirs
