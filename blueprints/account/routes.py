"""Security screen: passkeys (add, rename, remove), sessions (end one, end others), password."""

from __future__ import annotations

import json
from functools import wraps

from flask import abort, current_app, flash, jsonify, request, url_for

from blueprints.account import bp, services
from blueprints.account.forms import ConfirmPasswordForm, NewPasswordForm, RenameForm
from blueprints.auth import passkeys as ceremonies
from core import audit, origin, sessions, web
from core.db import reads_first
from core.i18n import gettext as _, ngettext


def fresh_required(view):
    """Changing credentials needs an authentication of the last 5 minutes (under the gate)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        back = None if request.method == "GET" else url_for("account.index")
        return web.ask_fresh_authentication(back) or view(*args, **kwargs)

    return wrapper


def _page(viewer, **extra):
    return dict(
        passkeys=services.passkey_rows(viewer), sessions=services.session_rows(viewer), kiosk=viewer.kiosk, **extra
    )


@bp.get("")
@web.gate("account")
def index(viewer):
    return web.render("account/index.html", **_page(viewer))


@bp.get("/cles-d-acces")
@web.gate("account")
def passkeys(viewer):
    return web.render("account/passkeys.html", "account/_passkeys.html", **_page(viewer))


@bp.post("/cles-d-acces/options")
@web.gate("account", "write")
@fresh_required
def passkey_options(viewer):
    if viewer.kiosk:
        abort(403)
    return current_app.response_class(ceremonies.registration_options(viewer.account), mimetype="application/json")


@bp.post("/cles-d-acces")
@web.gate("account", "write")
@fresh_required
def passkey_add(viewer):
    if viewer.kiosk:
        abort(403)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        payload = {}
    name = payload.get("name") if isinstance(payload.get("name"), str) else ""
    name = name.strip() or origin.device_label(request.user_agent.string or "")
    try:
        services.add_passkey(viewer, json.dumps(payload.get("credential") or {}), name)
    except ceremonies.PasskeyError:
        return jsonify(error=_("This passkey could not be added. Try again.")), 400
    flash(_("Passkey added. You can now log in with it."), "success")
    return jsonify(ok=True, redirect=url_for("account.passkeys"))


@bp.route("/cles-d-acces/<cid>/nom", methods=["GET", "POST"])
@web.gate("account", "write")
def passkey_rename(viewer, cid: str):
    cred = services.own_credential(viewer, cid)
    form = RenameForm(obj=cred)
    if request.method == "POST":
        if form.validate_on_submit():
            services.rename_passkey(viewer, cred, form.name.data)
            row = next(k for k in services.passkey_rows(viewer) if k["id"] == cid)
            return web.render("account/passkeys.html", "account/_passkey_row.html", key=row, **_page(viewer))
        return web.render(
            "account/passkeys.html", "account/_passkey_rename.html", status=422, form=form, cred=cred, **_page(viewer)
        )
    if request.args.get("annuler"):
        row = next(k for k in services.passkey_rows(viewer) if k["id"] == cid)
        return web.render("account/passkeys.html", "account/_passkey_row.html", key=row, **_page(viewer))
    return web.render("account/passkey_rename.html", "account/_passkey_rename.html", form=form, cred=cred)


@bp.post("/cles-d-acces/<cid>/supprimer")
@web.gate("account", "write")
@fresh_required
def passkey_remove(viewer, cid: str):
    cred = services.own_credential(viewer, cid)
    services.remove_passkey(viewer, cred)
    flash(_("The passkey “%(name)s” was removed: it can no longer open your space.", name=cred.name), "success")
    return web.hx_redirect(url_for("account.passkeys"))


@bp.post("/sessions/<sid>/terminer")
@web.gate("account", "write")
def session_end(viewer, sid: str):
    if services.end_session(viewer, sid):
        flash(_("The session was ended: that device must log in again."), "success")
    return web.render("account/index.html", "account/_sessions.html", **_page(viewer))


@bp.post("/sessions/terminer-les-autres")
@web.gate("account", "write")
def sessions_end_others(viewer):
    count = services.end_other_sessions(viewer)
    flash(
        ngettext("%(num)d other session ended.", "%(num)d other sessions ended.", count)
        if count
        else _("No other session was open."),
        "success",
    )
    return web.render("account/index.html", "account/_sessions.html", **_page(viewer))


@bp.route("/mot-de-passe", methods=["GET", "POST"])
@web.gate("account", "write")
@reads_first
@fresh_required
def password(viewer):
    form = NewPasswordForm()
    if form.validate_on_submit():
        problem = services.change_password(viewer, form.password.data)
        if not problem:
            flash(_("Password changed. Your other sessions were ended."), "success")
            return web.hx_redirect(url_for("account.index"))
        form.password.errors = [problem]
    status = 422 if form.is_submitted() else 200
    return web.render("account/password.html", "account/_password_form.html", status=status, form=form)


@bp.route("/confirmer", methods=["GET", "POST"])
@web.gate("account")
@reads_first
def confirm(viewer):
    nxt = web.safe_next(request.args.get("next"), url_for("account.index"))
    form = ConfirmPasswordForm()
    status = 200
    if form.validate_on_submit():
        outcome = services.confirm_with_password(viewer, form.password.data, request.remote_addr or "")
        if outcome.ok:
            return web.hx_redirect(nxt)
        if outcome.end_session:
            audit.record(viewer, audit.Action.LOGOUT, detail={"reason": "confirmation_failures"})
            sessions.logout_to_anonymous("confirm")
            flash(outcome.message, "error")
            return web.hx_redirect(url_for("auth.login"))
        form.password.errors = [outcome.message]
        status = 429 if outcome.limited else 422
    elif form.is_submitted():
        status = 422
    return web.render(
        "account/confirm.html",
        "account/_confirm_form.html",
        status=status,
        form=form,
        next=nxt,
        has_passkey=bool(services.passkey_rows(viewer)),
    )


@bp.post("/confirmer/options")
@web.gate("account")
def confirm_options(viewer):
    return current_app.response_class(
        ceremonies.authentication_options("fresh", viewer.account), mimetype="application/json"
    )


@bp.post("/confirmer/cle")
@web.gate("account")
def confirm_passkey(viewer):
    nxt = web.safe_next(request.args.get("next"), url_for("account.index"))
    if services.confirm_with_passkey(viewer, request.get_data(as_text=True)):
        return jsonify(redirect=nxt)
    return jsonify(error=_("This passkey was not recognised.")), 400
