"""Objecting to a space (public, with the letter), closing one's space (the holder, after a
fresh authentication), and the page a closed space leads to."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, redirect, request, session, url_for
from flask_wtf import FlaskForm

from blueprints.lifecycle import bp, services
from blueprints.lifecycle.forms import CloseForm, OppositionForm
from core import access, audit, sessions, web
from core.access import Viewer
from core.i18n import gettext as _


@bp.route("/opposition", methods=["GET", "POST"])
def oppose():
    """Public, like activation: whoever holds the letter may object, without an account."""
    form = OppositionForm()
    if form.validate_on_submit():
        done = services.oppose_online(form.nir.data, form.birth_date.data, form.code.data, request.remote_addr or "")
        if done.ok:  # the receipt has a page of its own, shown once
            session["opposed"] = {"receipt": done.receipt, "at": done.at.isoformat()}
            return web.hx_redirect(url_for("lifecycle.opposed"))
        audit.record(None, audit.Action.OPPOSITION_FAILED, detail={"limited": done.limited})
        form.code.errors = [done.message]
        return web.render(
            "lifecycle/oppose.html", "lifecycle/_oppose_form.html", status=429 if done.limited else 422, form=form
        )
    status = 422 if form.is_submitted() else 200
    return web.render("lifecycle/oppose.html", "lifecycle/_oppose_form.html", status=status, form=form)


@bp.get("/opposition/recepisse")
def opposed():
    """The receipt of the objection just recorded (public: the space no longer exists)."""
    done = session.pop("opposed", None)
    if done is None:
        return redirect(url_for("lifecycle.oppose"))
    return web.render("lifecycle/opposed.html", receipt=done["receipt"], at=datetime.fromisoformat(done["at"]))


@bp.route("/mon-espace/fermer", methods=["GET", "POST"])
@web.gate("lifecycle", "close")
def close(viewer: Viewer):
    """What closing means, with this space's figures; closing needs a fresh authentication."""
    fresh = web.ask_fresh_authentication(url_for("lifecycle.close"))
    if fresh is not None:
        return fresh
    form = CloseForm()
    if request.method == "POST":
        if form.validate_on_submit():
            services.close(viewer, delete_now=form.when.data == "delete")
            sessions.logout("space_closed")
            return web.hx_redirect(url_for("lifecycle.closed"), reload=True)
    status = 422 if form.is_submitted() else 200
    return web.render(
        "lifecycle/close.html",
        "lifecycle/_close_form.html",
        status=status,
        form=form,
        c=services.consequences(viewer.patient_id),
    )


@bp.get("/espace-ferme")
def closed():
    """Where closing leads: public, the holder's session has just ended."""
    return web.render("lifecycle/closed.html")


@bp.post("/espace/changer")
@web.gate("spaces", "switch")
def switch(viewer: Viewer):
    """Switch between one's own space and the spaces one acts in: the children one is the
    guardian of, the people one helps."""
    form = FlaskForm()
    wanted = request.form.get("space", "")
    if not form.validate_on_submit() or not wanted:
        return web.error_page(400)
    own = viewer.acting_patient_id or viewer.patient_id
    if not viewer.is_holder:
        abort(404)
    if wanted == own:
        session.pop(web.SPACE_KEY, None)
        flash(_("You are back in your own space."), "info")
        return web.hx_redirect("/")
    holder = access.holder_viewer(viewer.account_id, own, viewer.name or "", viewer.session_id, viewer.kiosk)
    acting = access.acting_viewer(holder, wanted)
    if acting is None:
        abort(404)
    session[web.SPACE_KEY] = wanted
    name = next(s["name"] for s in web.spaces(acting) if s["id"] == wanted)
    if acting.kind == "helper":
        flash(_("%(name)s. Everything you do here is recorded as yours, as their helper.", name=name), "info")
    else:
        flash(
            _("You are now in the space of %(name)s. Everything you do here is recorded as yours.", name=name), "info"
        )
    return web.hx_redirect("/")
