"""Making the PDFs (through core.pdf: bounded, fetching only Carnet's static files), tracing
them, and keeping "Ma synthèse" in Documents.

The data is read and the page written in the language asked for (force_locale), whatever the
language of the screen: a holder may print in English for a doctor abroad.
"""

from __future__ import annotations

import io

from flask import Response
from flask_babel import force_locale

from blueprints.documents import services as documents
from blueprints.profile import services as profile
from blueprints.profile.models import ProfileFacts
from blueprints.profile.synthesis import card, content
from blueprints.sharing import services as sharing
from core import access, audit, clock, http, pdf
from core.access import Viewer
from core.db import before_slow_work, db, write_intent
from core.formatting import day
from core.i18n import LANGUAGES, gettext as _

A4_PAGES = 30  # the benchmark's heavy record fills 7; lists are never cut on the A4
CARD_PAGES = 1


class CardTooFull(Exception):
    """The chosen items do not fit on one A6 page."""


def language(wanted: str | None, current: str) -> str:
    return wanted if wanted in LANGUAGES else current if current in LANGUAGES else "fr"


def _space_link() -> dict:
    """The QR code: where a professional opens the space, with the code the holder gives."""
    link = sharing.link(None)
    return {"url": link, "svg": sharing.qr_svg(link)}


def _bounded(html: str, max_pages: int, files: dict[str, str] | None = None) -> bytes:
    """WeasyPrint's part, with no transaction left open (nothing is written before it): the
    database is not held while the page is laid out. Both pages use only the elements of
    core/print_ua.css: they are laid out with it (less cascade work; docs/performance.md, 7)."""
    before_slow_work()
    return pdf.html_to_pdf(html, pdf.static_folder(), max_pages=max_pages, carnet_ua=True, files=files)


def a4_html(viewer: Viewer, lang: str) -> tuple[str, dict[str, str]]:
    """The page WeasyPrint is given and the files it names (its charts); the benchmark lays it
    out in process too."""
    with force_locale(lang):
        s = content.a4(viewer)
        html = pdf.page(
            "profile/synthesis/print_a4.html",
            s=s,
            qr=_space_link(),
            lang=lang,
            title=_("My health summary"),
        )
    return html, {m["name"]: m["svg"] for m in s["measures"] or ()}


def a4_pdf(viewer: Viewer, lang: str) -> bytes:
    html, files = a4_html(viewer, lang)
    return _bounded(html, A4_PAGES, files)


def a4(viewer: Viewer, lang: str) -> bytes:
    """ "Ma synthèse" as PDF bytes, traced (a professional's print too, with their grant)."""
    data = a4_pdf(viewer, lang)
    audit.record(viewer, audit.Action.SUMMARY_PRINTED, detail={"format": "a4", "lang": lang})
    return data


def filename(lang: str, kind: str = "a4") -> str:
    stem = {"a4": ("ma-synthese", "health-summary"), "card": ("carte-urgence", "emergency-card")}[kind]
    return f"{stem[0] if lang == 'fr' else stem[1]}-{clock.paris_today().isoformat()}.pdf"


def keep(viewer: Viewer, lang: str):
    """Make "Ma synthèse" and keep it in Documents (category SYNTHESE), where it can be shared
    like any document. The new document."""
    access.require(viewer, "documents", "write")
    data = a4_pdf(viewer, lang)
    with force_locale(lang):
        title = _("My health summary of %(date)s", date=day(clock.paris_today()))
    write_intent()
    [doc] = documents.add_documents(
        viewer,
        [documents.Upload(io.BytesIO(data), filename(lang))],
        category="SYNTHESE",
        act_date=clock.paris_today(),
        title=title,
        source="summary",
        action=None,
    )
    audit.record(viewer, audit.Action.SUMMARY_KEPT, doc, detail={"lang": lang})
    return doc


def card_choice(viewer: Viewer) -> list[str]:
    facts = profile.facts(viewer)
    return card.parse(facts.card_items if facts is not None else None)


def save_card_choice(viewer: Viewer, items: list[str]) -> None:
    access.require(viewer, "profile", "write")
    write_intent()
    facts = profile.facts(viewer)
    stored = card.store(items)
    if facts is None:
        facts = ProfileFacts(patient_id=viewer.patient_id)
        db.session.add(facts)
    if facts.card_items != stored:
        facts.card_items = stored
        db.session.flush()


def emergency_card(viewer: Viewer, items: list[str], lang: str) -> bytes:
    """The A6 card with the chosen items; CardTooFull when they do not fit on its one page."""
    with force_locale(lang):
        html = pdf.page(
            "profile/synthesis/print_card.html",
            c=content.emergency_card(viewer, items),
            lang=lang,
            title=_("Emergency card"),
        )
    try:
        data = _bounded(html, CARD_PAGES)
    except pdf.TooManyPages:
        raise CardTooFull() from None
    audit.record(viewer, audit.Action.SUMMARY_PRINTED, detail={"format": "card", "lang": lang, "items": items})
    return data


def screen(viewer: Viewer) -> dict:
    """What the "Ma synthèse" screen needs besides its forms."""
    return {"can_keep": access.can(viewer, "documents", "write")}


def response(data: bytes, name: str) -> Response:
    """The PDF, opened in the browser's viewer, never stored by it; a kiosk loads it in a frame
    of the screen that asked for it and prints it from there (static/js/app.js, 5b)."""
    resp = Response(data, content_type="application/pdf")
    resp.headers["Content-Security-Policy"] = http.CSP_FRAMED_BY_SELF
    resp.headers["Content-Disposition"] = f'inline; filename="{name}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
