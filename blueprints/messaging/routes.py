"""Messaging screens: the inbox (search, archive, infinite list), a new conversation, a
conversation (reply, close, archive, refuse new ones), attachments (thumbnail, download, save
into Documents), and the two polls, passive: they never extend the session."""

from __future__ import annotations

from flask import current_app, flash, make_response, request, url_for

from blueprints.documents import files, services as documents
from blueprints.messaging import attachments, bp, services
from blueprints.messaging.forms import NewThreadForm, ReplyForm, SaveForm
from core import sessions, web
from core.files import thumbnails
from core.forms import options
from core.i18n import gettext as _
from core.templating import nav_counts

ACCEPT = "application/pdf,image/jpeg,image/png,image/tiff,text/plain,.pdf,.jpg,.jpeg,.png,.tif,.tiff,.txt"

web.nav_badge("messaging.unread", services.unread_count)


def _uploads(form) -> list:
    found = request.files.getlist(form.files.name) + request.files.getlist(form.photo.name)
    return [documents.Upload(f.stream, f.filename) for f in found if f and f.filename]


def _write_error(exc: Exception) -> str:
    if isinstance(exc, documents.UploadRefused):
        return exc.message(current_app.config["UPLOAD_MAX_MB"])
    if isinstance(exc, attachments.TooMany):
        return _("%(num)d files at most with one message.", num=attachments.MAX_FILES)
    return _("This conversation is closed, or you can no longer write to this person.")


def _form_context() -> dict:
    mb = current_app.config["UPLOAD_MAX_MB"]
    return {"accept": ACCEPT, "max_mb": mb, "max_bytes": mb * 1024 * 1024}


# --------------------------------------------------------------------------- inbox


@bp.get("")
@web.gate("messages", account=True)
def index(viewer):
    archived = request.args.get("archives") == "1"
    after = request.args.get("apres") or None
    inbox = services.inbox(viewer, q=request.args.get("q"), archived=archived, after=after)
    fragment = "messaging/_rows.html" if after else "messaging/_results.html"
    return web.render(
        "messaging/index.html",
        fragment,
        inbox=inbox,
        can_start=services.may_start_any(viewer) if not after else False,
    )


@bp.get("/non-lus")
@sessions.passive
@web.gate("messages", account=True)
def unread(viewer):
    """The navigation's count, polled every 30 s while the tab is seen."""
    n = services.unread_count(viewer)
    # The two counts alone, drawn as the navigation draws them (no page context to build).
    return make_response(nav_counts(("sidenav", "bottomnav"), "messaging.unread", n, oob=True))


# --------------------------------------------------------------------------- a new conversation


@bp.route("/nouveau", methods=["GET", "POST"])
@web.gate("messages", "write", account=True)
def new(viewer):
    # Choosing the patient again (GET with the form's fields) keeps what was typed.
    refreshed = request.method == "GET" and "to" in request.args
    form = NewThreadForm(formdata=request.args) if refreshed else NewThreadForm()
    people = services.contacts(viewer)
    form.to.choices = options(
        [("", _("Choose…"))] + [(c.id, f"{c.name} ({c.detail})" if c.detail else c.name) for c in people]
    )
    if request.method == "GET" and request.args.get("a"):
        form.to.data = request.args.get("a")
    chosen = form.to.data or ""
    record = attachments.record_choices(viewer, chosen) if chosen and not viewer.is_holder else []
    form.documents.choices = options((d["id"], d["title"]) for d in record)
    error = None
    if form.validate_on_submit():
        uploads = _uploads(form)
        if not (form.body.data or "").strip() and not uploads:
            error = _("Write a message or attach a file.")
        else:
            try:
                thread = services.start_thread(
                    viewer,
                    form.to.data,
                    subject=form.subject.data,
                    body=form.body.data,
                    uploads=uploads,
                    document_ids=form.documents.data,
                )
            except (services.Refused, documents.UploadRefused, attachments.TooMany) as exc:
                error = _write_error(exc)
            else:
                flash(_("Message sent."), "success")
                return web.hx_redirect(url_for("messaging.thread", thread_id=thread.id))
    status = 422 if form.is_submitted() else 200
    return web.render(
        "messaging/new.html",
        "messaging/_new_form.html",
        status=status,
        form=form,
        people=people,
        record=record,
        error=error,
        **_form_context(),
    )


# --------------------------------------------------------------------------- a conversation


def _thread_page(viewer, thread, form=None, error=None, status=200, fragment=None):
    data = services.open_thread(viewer, thread)
    form = form or ReplyForm()
    record = attachments.record_choices(viewer, thread.patient_id) if data["can_reply"] else []
    form.documents.choices = options((d["id"], d["title"]) for d in record)
    return web.render(
        "messaging/thread.html",
        fragment,
        status=status,
        t=data,
        form=form,
        record=record,
        error=error,
        save_form=SaveForm(),
        **_form_context(),
    )


@bp.get("/<thread_id>")
@web.gate("messages", account=True)
def thread(viewer, thread_id: str):
    return _thread_page(viewer, services.get_thread(viewer, thread_id))


@bp.get("/<thread_id>/nouveaux")
@sessions.passive
@web.gate("messages", account=True)
def fresh(viewer, thread_id: str):
    """Polled by an open conversation: 204 when nothing came since `vus` messages, else the
    messages (read on arrival, as the person is looking at them)."""
    found = services.get_thread(viewer, thread_id)
    seen = request.args.get("vus", type=int) or 0
    if services.message_count(found) <= seen:
        return make_response("", 204)
    data = services.open_thread(viewer, found)
    return web.render("messaging/_messages.html", "messaging/_messages.html", t=data, save_form=SaveForm())


@bp.post("/<thread_id>/repondre")
@web.gate("messages", "write", account=True)
def reply(viewer, thread_id: str):
    found = services.get_thread(viewer, thread_id)
    form = ReplyForm()
    record = attachments.record_choices(viewer, found.patient_id)
    form.documents.choices = options((d["id"], d["title"]) for d in record)
    error = None
    if form.validate_on_submit():
        uploads = _uploads(form)
        if not (form.body.data or "").strip() and not uploads and not form.documents.data:
            error = _("Write a message or attach a file.")
        else:
            try:
                services.reply(viewer, found, body=form.body.data, uploads=uploads, document_ids=form.documents.data)
            except (services.Refused, documents.UploadRefused, attachments.TooMany) as exc:
                error = _write_error(exc)
            else:
                # the same page afresh (a fragment-only change of URL would not reload it)
                return web.hx_redirect(url_for("messaging.thread", thread_id=found.id))
    return _thread_page(viewer, found, form=form, error=error, status=422)


@bp.post("/<thread_id>/fermer")
@web.gate("messages", "write", account=True)
def close(viewer, thread_id: str):
    found = services.get_thread(viewer, thread_id)
    try:
        services.close_thread(viewer, found)
    except services.Refused:
        return web.error_page(403)
    flash(_("Conversation closed: it stays readable, nobody can write in it any more."), "success")
    return web.hx_redirect(url_for("messaging.thread", thread_id=found.id))


@bp.post("/<thread_id>/archiver")
@web.gate("messages", "write", account=True)
def archive(viewer, thread_id: str):
    found = services.get_thread(viewer, thread_id)
    archived = request.form.get("archiver") != "0"
    services.archive(viewer, found, archived)
    if archived:
        flash(_("Conversation archived. A new message brings it back to your inbox."), "success")
        return web.hx_redirect(url_for("messaging.index"))
    flash(_("Conversation back in your inbox."), "success")
    return web.hx_redirect(url_for("messaging.thread", thread_id=found.id))


@bp.post("/<thread_id>/refuser")
@web.gate("messages", "block", account=True)
def refuse(viewer, thread_id: str):
    """The holder refuses (or accepts again) new conversations from this thread's professional."""
    found = services.get_thread(viewer, thread_id)
    if not viewer.is_holder:
        return web.error_page(403)
    refuse = request.form.get("refuser") != "0"
    services.set_refusal(viewer, found.professional_id, refuse)
    if refuse:
        flash(_("This professional can no longer start a conversation with you. This one stays open."), "success")
    else:
        flash(_("This professional can start conversations with you again."), "success")
    return web.hx_redirect(url_for("messaging.thread", thread_id=found.id))


@bp.post("/<thread_id>/bloquer")
@web.gate("messages", "block", account=True)
def block(viewer, thread_id: str):
    """The holder blocks this thread's professional (as under Sharing): no access, no message."""
    found = services.get_thread(viewer, thread_id)
    if not viewer.is_holder:
        return web.error_page(403)
    services.block(viewer, found)
    flash(
        _("This professional is blocked: no code, permanent or emergency access opens your space for them any more."),
        "success",
    )
    return web.hx_redirect(url_for("messaging.thread", thread_id=found.id))


# --------------------------------------------------------------------------- attachments


@bp.get("/pieces/<att_id>/vignette")
@web.gate("messages", account=True)
def attachment_thumbnail(viewer, att_id: str):
    found, _thread = attachments.get(viewer, att_id)
    chunks = attachments.open_thumbnail(viewer, found)
    if chunks is None:
        return web.error_page(404)
    return files.serve_image(chunks, thumbnails.THUMBNAIL_MIME, "vignette.jpg")


@bp.get("/pieces/<att_id>")
@web.gate("messages", account=True)
def attachment_download(viewer, att_id: str):
    """Always a download (never shown by the browser, nothing in it runs)."""
    found, thread = attachments.get(viewer, att_id)
    content = attachments.open_file(viewer, found, thread)
    return files.serve(content, found, inline=False, name=files.download_name(found))


@bp.post("/pieces/<att_id>/enregistrer")
@web.gate("messages", "write", account=True)
def attachment_save(viewer, att_id: str):
    found, thread = attachments.get(viewer, att_id)
    form = SaveForm()
    if not viewer.is_holder:
        return web.error_page(403)
    if not form.validate_on_submit():
        return web.error_page(400, _("Choose a category."))
    doc = attachments.save_to_documents(viewer, found, thread, category=form.category.data)
    flash(_("“%(title)s” is saved in your documents.", title=doc.title), "success")
    return web.hx_redirect(url_for("messaging.thread", thread_id=thread.id, _anchor=f"piece-{found.id}"))
