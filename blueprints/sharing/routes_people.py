"""Sharing screens, continued: permanent grants (search as you type), blocks, emergency
settings, and the notifications' "this wasn't expected" button."""

from __future__ import annotations

from flask import abort, flash, redirect, request

from blueprints.sharing import bp, notices, professionals
from blueprints.sharing.forms import BlockForm, EmergencyForm, NoticePreferencesForm
from blueprints.sharing.page import back, page_context
from core import audit, notify, web
from core.i18n import gettext as _


@bp.get("/professionnels")
@web.gate("sharing")
def search(viewer):
    """Results only for htmx (search as you type); the whole page otherwise."""
    q = request.args.get("q", "")
    results = professionals.search(viewer, q)
    return web.render(
        "sharing/search.html",
        "sharing/_search_results.html",
        q=q,
        results=results,
        too_short=len(q.strip()) < professionals.SEARCH_MIN,
    )


@bp.post("/acces")
@web.gate("sharing", "write")
def grant_add(viewer):
    try:
        professionals.grant(viewer, request.form.get("professional_id", ""))
    except LookupError:
        abort(404)
    except professionals.Refused as exc:
        flash(_("%(name)s is blocked: unblock this professional first.", name=str(exc)), "warning")
        return web.hx_redirect(back("acces-permanents"))
    flash(_("Permanent access given. You can end it at any time."), "success")
    return web.hx_redirect(back("acces-permanents"))


@bp.post("/acces/<grant_id>/terminer")
@web.gate("sharing", "write")
def grant_end(viewer, grant_id: str):
    found = professionals.get_grant(viewer, grant_id)
    if professionals.end_grant(viewer, found):
        flash(_("Permanent access ended."), "success")
    return web.hx_redirect(back("acces-permanents"))


@bp.post("/blocages")
@web.gate("sharing", "write")
def block_add(viewer):
    form = BlockForm()
    if form.validate_on_submit():
        professionals.block(viewer, form.rpps.data, form.name.data)
        flash(
            _(
                "This professional is blocked: no code, permanent or emergency access opens your space "
                "for them any more."
            ),
            "success",
        )
        return web.hx_redirect(back("blocages"))
    return web.render(
        "sharing/index.html", "sharing/_block_form.html", status=422, **page_context(viewer, block_form=form)
    )


@bp.post("/blocages/<block_id>/retirer")
@web.gate("sharing", "write")
def unblock(viewer, block_id: str):
    found = professionals.get_block(viewer, block_id)
    professionals.unblock(viewer, found)
    flash(_("Block removed."), "success")
    return web.hx_redirect(back("blocages"))


@bp.post("/urgence")
@web.gate("sharing", "write")
def emergency(viewer):
    form = EmergencyForm()
    if not form.validate_on_submit():
        abort(400)
    professionals.save_emergency(viewer, form.allow_samu.data, form.allow_others.data, form.allow_hidden.data)
    flash(_("Emergency settings saved."), "success")
    return web.hx_redirect(back("urgence"))


@bp.post("/notifications/<note_id>/imprevu")
@web.gate("sharing", "write")
def flag(viewer, note_id: str):
    """ "This wasn't expected": traced, then the ways out are shown right there."""
    note = notices.get(viewer, note_id)
    row = notices.flag(viewer, note)
    if web.wants_fragment():
        return web.render("sharing/index.html", "sharing/_notice.html", n=row)
    flash(_("Noted. You can end this access and block this professional below."), "warning")
    return web.hx_redirect(back(f"notification-{note.id}"))


@bp.route("/notifications/reglages", methods=["GET", "POST"])
@web.gate("sharing", "write")
def preferences(viewer):
    """How the holder wants to be told, per kind (a page of its own; a plain form post)."""
    form = NoticePreferencesForm(data=notify.preferences(viewer.patient_id))
    if form.validate_on_submit():
        chosen = {k: getattr(form, k).data for k in notify.CHOSEN_KINDS}
        if chosen != notify.preferences(viewer.patient_id):
            notify.save_preferences(viewer.patient_id, chosen)
            audit.record(
                viewer, audit.Action.NOTIFICATION_PREFERENCES_UPDATED, patient_id=viewer.patient_id, detail=chosen
            )
        flash(_("Your choices are saved."), "success")
        return redirect(back("notifications"), 303)
    status = 422 if form.is_submitted() else 200
    return web.render("sharing/preferences.html", status=status, form=form)
