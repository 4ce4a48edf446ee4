"""Professionals' ways in: a code (or the QR link) without an account, ending that code
session, emergency access with an account. The record pages are in record_routes."""

from __future__ import annotations

from flask import flash, g, redirect, request, session, url_for

from blueprints.pro import bp, services
from blueprints.pro.forms import CodeForm, EmergencyForm
from core import access, audit, sessions, web
from core.i18n import gettext as _


@bp.route("/acces", methods=["GET", "POST"], endpoint="access")
def access_code():
    """One answer for every refusal: same status, same words, same form (the code emptied)."""
    viewer = web.current_viewer()
    if viewer.is_authenticated:
        if viewer.grant_kind == "share":
            return redirect(url_for("pro.record", access_id=viewer.grant_id))
        return web.render("pro/access.html", form=None, signed_in=True)
    form = CodeForm()
    if request.method == "GET":
        form.token.data = request.args.get("lien", "")[:100]  # checked only when sent: GET reveals nothing
    refused = False
    if form.validate_on_submit():
        use = services.open_share(
            request.remote_addr,
            code=form.code.data,
            token=form.token.data,
            given_name=form.given_name.data,
            family_name=form.family_name.data,
            profession=form.profession.data,
            rpps=form.rpps.data,
        )
        if use is not None:
            via = "link" if form.token.data else "code"
            sessions.start_share_session(use.id)
            g.pop("viewer", None)
            services.share_opened(web.current_viewer(), via)
            if via == "link":
                flash(_("Link recognised."), "success")
            return web.hx_redirect(url_for("pro.record", access_id=use.share_id))
        refused = True
        form.code.data, form.token.data = "", ""
    status = 422 if form.is_submitted() else 200
    return web.render("pro/access.html", "pro/_access_form.html", status=status, form=form, refused=refused)


@bp.post("/terminer")
def end():
    """End a code session: nothing of the record stays reachable from this browser."""
    viewer = web.current_viewer()
    if viewer.account_id is not None:
        return redirect(url_for("dashboard.index"), 303)
    if viewer.grant_kind == "share":
        audit.record(viewer, audit.Action.SHARE_SESSION_ENDED)
    sessions.logout("ended")
    resp = web.hx_redirect(url_for("pro.access", fin=1), reload=True)
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    return resp


@bp.route("/urgence", methods=["GET", "POST"])
@web.gate("pro", "emergency", account=True)  # a code session: log in with a professional account
def emergency(viewer):
    form = EmergencyForm()
    problem, status = None, 200
    if form.validate_on_submit():
        try:
            found = services.emergency(
                viewer, nir=form.nir.data, birth_date=form.birth_date.data, reason=form.reason.data, samu=form.samu.data
            )
        except services.TooManyAttempts:
            problem, status = _("Too many attempts. Wait a moment, then try again."), 429
        except services.EmergencyRefused:
            problem, status = (
                _(
                    "Emergency access is not possible for this patient with these details. "
                    "Check the number and the date of birth."
                ),
                422,
            )
        else:
            return web.hx_redirect(url_for("pro.record", access_id=found.id))
    elif form.is_submitted():
        status = 422
    return web.render(
        "pro/emergency.html",
        "pro/_emergency_form.html",
        status=status,
        form=form,
        problem=problem,
        hours=access.EMERGENCY_HOURS,
    )


@bp.before_request
def _ended_code_session():
    """A code session whose share was revoked, expired or blocked ends on the next click,
    with a word to say so (the gate already answers such a viewer as anonymous)."""
    if request.endpoint in ("pro.access", "pro.end"):
        if session.get("share_use") and not web.current_viewer().is_authenticated:
            session.clear()
        return None
    if session.get("share_use") and not web.current_viewer().is_authenticated:
        session.clear()
        flash(
            _("This access has ended: the patient ended it, or it expired. Ask the patient for a new code."), "warning"
        )
        return web.hx_redirect(url_for("pro.access"))
    return None
