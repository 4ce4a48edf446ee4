"""Log in (passkey, or password + one-time code), activate a space, log out, pick a language."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, current_app, flash, jsonify, redirect, request, session, url_for
from flask_wtf import FlaskForm

from blueprints.auth import bp, passkeys, services
from blueprints.auth.forms import (
    ActivationForm,
    CodeForm,
    EmailPasswordForm,
    LoginForm,
    NewLetterForm,
    PasswordForm,
)
from blueprints.auth.services import complete_login
from blueprints.card import services as card
from core import audit, clock, sessions, web
from core.db import reads_first, write_intent
from core.i18n import LANGUAGES, gettext as _
from core.people import Account


def _home_for(account: Account) -> str:
    return url_for("dashboard.index")


def _unlocked_for() -> str | None:
    """The account whose holder opened an unlock link on this device, while it lasts."""
    unlock = session.get("login_unlock") or {}
    try:
        until = datetime.fromisoformat(unlock["until"])
    except (KeyError, TypeError, ValueError):
        return None
    return unlock.get("account_id") if until > clock.utcnow() else None


@bp.route("/connexion", methods=["GET", "POST"])
@reads_first
def login():
    viewer = web.current_viewer()
    if viewer.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        unlocked_for = _unlocked_for()
        outcome = services.check_password_login(
            form.email.data, form.password.data, request.remote_addr or "", unlocked_for=unlocked_for
        )
        write_intent()
        if outcome.ok:
            otp = services.send_login_code(outcome.account)
            if otp is not None:
                session["pending_login"] = {
                    "account_id": outcome.account.id,
                    "otp_id": otp.id,
                    "unlocked": unlocked_for == outcome.account.id,
                    "next": web.safe_next(request.args.get("next"), ""),
                }
                return web.hx_redirect(url_for("auth.login_code"))
            outcome = services.Outcome(
                False, services.codes_capped_message(outcome.account), limited=True, account=outcome.account
            )
        audit.record(
            None,
            audit.Action.LOGIN_FAILED,
            patient_id=outcome.account.patient_id if outcome.account else None,
            account_id=outcome.account.id if outcome.account else None,
            detail={"method": "password", "limited": outcome.limited},
        )
        if unlocked_for and not outcome.limited:
            unlock = dict(session["login_unlock"])
            unlock["failures"] = unlock.get("failures", 0) + 1
            if unlock["failures"] >= current_app.config["CONFIRM_MAX_FAILURES"]:  # as few as a step-up check
                session.pop("login_unlock")  # this device's unlock is used up
            else:
                session["login_unlock"] = unlock
        form.password.errors = [outcome.message]
        status = 429 if outcome.limited else 422
        return web.render("auth/login.html", "auth/_login_form.html", status=status, form=form)
    status = 422 if form.is_submitted() else 200
    return web.render("auth/login.html", "auth/_login_form.html", status=status, form=form)


@bp.route("/connexion/code", methods=["GET", "POST"])
def login_code():
    pending = session.get("pending_login")
    if not pending:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        unlocked = bool(pending.get("unlocked")) and _unlocked_for() == pending.get("account_id")
        outcome = services.check_login_code(
            pending.get("otp_id"), form.code.data, request.remote_addr or "", unlocked=unlocked
        )
        if outcome.ok:
            account = outcome.account
            nxt = pending.get("next") or _home_for(account)
            complete_login(account, "password+otp")
            return web.hx_redirect(nxt)
        account = services.account(pending["account_id"])
        audit.record(
            None,
            audit.Action.LOGIN_FAILED,
            patient_id=account.patient_id if account else None,
            account_id=pending["account_id"],
            detail={"method": "otp"},
        )
        if outcome.limited:
            session.pop("pending_login", None)
            flash(outcome.message, "error")
            return web.hx_redirect(url_for("auth.login"))
        form.code.errors = [outcome.message]
        return web.render("auth/code.html", "auth/_code_form.html", status=422, form=form)
    status = 422 if form.is_submitted() else 200
    return web.render("auth/code.html", "auth/_code_form.html", status=status, form=form)


@bp.post("/connexion/passkey/options")
def passkey_options():
    return current_app.response_class(passkeys.authentication_options("login"), mimetype="application/json")


@bp.post("/connexion/passkey")
def passkey_login():
    try:
        account = passkeys.authenticate(request.get_data(as_text=True), "login")
    except passkeys.PasskeyError as exc:
        audit.record(None, audit.Action.LOGIN_FAILED, detail={"method": "passkey", "reason": str(exc)[:80]})
        return jsonify(error=_("This passkey was not recognised. Try again or log in with your password.")), 400
    complete_login(account, "passkey")
    nxt = web.safe_next(request.args.get("next"), _home_for(account))
    return jsonify(redirect=nxt)


@bp.post("/deconnexion")
def logout():
    viewer = web.current_viewer()
    if viewer.is_authenticated:
        audit.record(viewer, audit.Action.LOGOUT)
    sessions.logout()
    if sessions.on_kiosk():
        # The next person starts on the kiosk's welcome screen. The session cookie is deleted by
        # name: clearing every cookie would also drop the kiosk's own registration.
        resp = web.hx_redirect(url_for("kiosk.welcome"), reload=True)
        resp.headers["Clear-Site-Data"] = '"cache", "storage"'
        return resp
    resp = web.hx_redirect(url_for("auth.login"), reload=True)
    if request.cookies.get(card.COOKIE):
        # This device keeps its holder's emergency card, by their choice: it stays (the login
        # page offers to remove it); the session ends and the cookies go all the same.
        resp.headers["Clear-Site-Data"] = '"cookies"'
    else:
        resp.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return resp


@bp.route("/activation", methods=["GET", "POST"])
def activate():
    form = ActivationForm()
    if form.validate_on_submit():
        outcome = services.activate(form.nir.data, form.birth_date.data, form.code.data, request.remote_addr or "")
        if outcome.ok:
            account_id = outcome.account.id if outcome.account is not None else None
            session["activation"] = {"account_id": account_id, "patient_id": outcome.patient_id}
            audit.record(None, audit.Action.ACTIVATION_CODE_USED, patient_id=outcome.patient_id, account_id=account_id)
            return web.hx_redirect(url_for("auth.activate_password"))
        audit.record(None, audit.Action.ACTIVATION_FAILED, detail={"limited": outcome.limited})
        form.code.errors = [outcome.message]
        return web.render(
            "auth/activate.html", "auth/_activate_form.html", status=429 if outcome.limited else 422, form=form
        )
    status = 422 if form.is_submitted() else 200
    return web.render("auth/activate.html", "auth/_activate_form.html", status=status, form=form)


@bp.route("/activation/nouveau-courrier", methods=["GET", "POST"])
def new_letter():
    """Ask for a new activation letter (a lost letter, or a code blocked after wrong tries)."""
    form = NewLetterForm()
    done = None
    if form.validate_on_submit():
        outcome = services.request_new_letter(form.nir.data, form.birth_date.data, request.remote_addr or "")
        audit.record(None, audit.Action.ACTIVATION_LETTER_REQUESTED, detail={"limited": outcome.limited})
        if outcome.limited:
            form.nir.errors = [outcome.message]
            return web.render("auth/new_letter.html", "auth/_new_letter_form.html", status=429, form=form)
        done = outcome.message
    status = 422 if form.is_submitted() and done is None else 200
    return web.render("auth/new_letter.html", "auth/_new_letter_form.html", status=status, form=form, done=done)


@bp.route("/connexion/deblocage/<token>", methods=["GET", "POST"])
def unlock(token: str):
    """The link mailed to a holder whose password login is paused: opened on a device, it lets
    that device log in with the password again for a while (GET shows a button: no change on GET)."""
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        account = services.use_unlock_link(token)
        if account is not None:
            until = clock.utcnow() + timedelta(minutes=current_app.config["UNLOCK_MINUTES"])
            session["login_unlock"] = {"account_id": account.id, "until": until.isoformat(), "failures": 0}
            audit.record(None, audit.Action.LOGIN_UNLOCKED, patient_id=account.patient_id, account_id=account.id)
            flash(
                _(
                    "Logging in with your password is unlocked on this device for %(minutes)s minutes.",
                    minutes=current_app.config["UNLOCK_MINUTES"],
                ),
                "success",
            )
            return web.hx_redirect(url_for("auth.login"))
        return web.render("auth/unlock.html", status=422, form=form, gone=True)
    return web.render("auth/unlock.html", form=form, gone=False)


@bp.route("/activation/mot-de-passe", methods=["GET", "POST"])
@reads_first
def activate_password():
    pending = session.get("activation") or {}
    account = services.account(pending.get("account_id"))
    by_post = account is None and pending.get("patient_id") is not None  # no email known yet
    if account is None and not by_post:
        return redirect(url_for("auth.activate"))
    form = EmailPasswordForm() if by_post else PasswordForm()
    if form.validate_on_submit():
        email = form.email.data if by_post else account.email
        problem = services.password_problem(form.password.data, email)
        if not problem:
            hashed = services.hash_password(form.password.data)  # slow: before the write transaction
            write_intent()
            if by_post:
                account = services.create_holder_account(pending["patient_id"], email)
                if account is None:
                    form.email.errors = [_("This email address is already used by another account.")]
                    return web.render("auth/activate_password.html", "auth/_password_form.html", status=422, form=form)
            services.finish_activation(account, hashed=hashed)
            complete_login(account, "activation")
            audit.record(web.current_viewer(), audit.Action.SPACE_ACTIVATED)
            flash(_("Your space is open. Add a passkey now: next time you will log in with a single touch."), "success")
            return web.hx_redirect(url_for("account.passkeys"))
        form.password.errors = [problem]
    status = 422 if form.is_submitted() else 200
    return web.render("auth/activate_password.html", "auth/_password_form.html", status=status, form=form)


@bp.post("/langue/<lang>")
def set_language(lang: str):
    if lang not in LANGUAGES:
        abort(404)
    session["lang"] = lang
    viewer = web.current_viewer()
    if viewer.account is not None:
        viewer.account.locale = lang
    return redirect(web.safe_next(request.form.get("next"), "/"), 303)


@bp.get("/session/etat")
@sessions.passive
def session_status():
    """Polled by the idle timer: says how long the session has left, without extending it."""
    remaining = sessions.idle_remaining(current_app)
    return jsonify(authenticated=web.current_viewer().is_authenticated, idle_remaining=remaining)
