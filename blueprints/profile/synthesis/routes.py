"""The holder's "Ma synthèse" screen: open the A4 PDF in one tap (in the language chosen),
keep it in Documents, print the emergency card with the items chosen. Works in any holder
session: the PDFs open in the browser's own viewer, and at a kiosk the same tap prints them
from a hidden frame (printing.response, static/js/app.js)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import get_locale

from blueprints.documents import services as documents
from blueprints.profile import bp
from blueprints.profile.synthesis import printing
from blueprints.profile.synthesis.forms import CardForm, KeepForm, LanguageForm
from core import pdf, web
from core.db import reads_first
from core.i18n import gettext as _

FAILED = 503


def _current() -> str:
    return str(get_locale())


def _screen(viewer, *, card_form=None, status: int = 200, problem: str | None = None, card_problem: str | None = None):
    if card_form is None:
        card_form = CardForm(formdata=None, current=_current(), data={"items": printing.card_choice(viewer)})
    return web.render(
        "profile/synthesis/index.html",
        status=status,
        a4_form=LanguageForm(formdata=None, current=_current(), meta={"csrf": False}),
        keep_form=KeepForm(formdata=None),
        card_form=card_form,
        problem=problem,
        card_problem=card_problem,
        screen=printing.screen(viewer),
    )


def _pdf_failed() -> str:
    return _("The PDF could not be prepared. Try again in a moment.")


@bp.get("/synthese")
@web.gate("profile")
def synthesis(viewer):
    return _screen(viewer)


@bp.get("/synthese/pdf")
@web.gate("profile")
def synthesis_pdf(viewer):
    """One tap from the profile or this screen: the PDF, in the language asked (else the screen's)."""
    lang = printing.language(request.args.get("lang"), _current())
    try:
        data = printing.a4(viewer, lang)
    except pdf.PdfError:
        return _screen(viewer, status=FAILED, problem=_pdf_failed())
    return printing.response(data, printing.filename(lang))


@bp.post("/synthese/garder")
@web.gate("profile", "write")  # and documents/write, which printing.keep asks of the gate
@reads_first  # reads, draws the PDF, then writes (printing.keep)
def synthesis_keep(viewer):
    form = KeepForm()
    problem, status, doc = None, 200, None
    if form.validate_on_submit():
        try:
            doc = printing.keep(viewer, printing.language(request.form.get("lang"), _current()))
        except (pdf.PdfError, documents.UploadRefused):
            problem, status = _pdf_failed(), FAILED
    else:
        problem, status = _("This form has expired. Please send it again."), 422
    if not web.wants_fragment():
        if doc is None:
            return _screen(viewer, status=status, problem=problem)
        flash(_("Your health summary is kept in your documents."), "success")
        return redirect(url_for("documents.show", doc_id=doc.id), 303)
    kept = {"title": doc.title, "url": url_for("documents.show", doc_id=doc.id)} if doc else None
    return web.render(
        "profile/synthesis/index.html",
        "profile/synthesis/_kept.html",
        status=422 if problem else 200,  # htmx swaps a 422 in place (not a 503): the message shows there
        kept=kept,
        keep_problem=problem,
        keep_form=form,
        screen=printing.screen(viewer),
    )


@bp.post("/synthese/carte")
@web.gate("profile", "write")
@reads_first  # reads, draws the card, then writes (audit.record, printing.save_card_choice)
def synthesis_card(viewer):
    """The card opens and its choice is remembered (a plain form post: the answer is a PDF)."""
    form = CardForm(current=_current())
    if not form.validate_on_submit():
        return _screen(viewer, card_form=form, status=422)
    try:  # drawn before anything is written: no write lock held while WeasyPrint works
        data = printing.emergency_card(viewer, form.items.data, form.lang.data)
    except printing.CardTooFull:
        problem = _("All of this does not fit on the card: untick one or two items, then try again.")
        return _screen(viewer, card_form=form, status=422, card_problem=problem)
    except pdf.PdfError:
        return _screen(viewer, card_form=form, status=FAILED, card_problem=_pdf_failed())
    printing.save_card_choice(viewer, form.items.data)
    return printing.response(data, printing.filename(form.lang.data, "card"))
