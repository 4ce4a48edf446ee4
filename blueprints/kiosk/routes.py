"""A public kiosk: its registration, its welcome screen with the QR code a holder scans,
and, on the holder's phone, the page that approves it."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, redirect, request, session, url_for
from flask_wtf import FlaskForm

from blueprints.auth.services import complete_login
from blueprints.kiosk import autofill, bp, services
from core import audit, sessions, web
from core.db import write_intent

bp.before_app_request(services.identify_device)


@bp.after_app_request
def _no_autofill_at_a_kiosk(response):
    """Every HTML answer to a kiosk (its device, or a kiosk session) keeps nothing in the
    browser's autofill (blueprints/kiosk/autofill.py)."""
    if not sessions.at_kiosk() or response.direct_passthrough or response.is_streamed:
        return response
    if response.mimetype == "text/html":
        response.set_data(autofill.no_autofill(response.get_data(as_text=True)))
    return response


@bp.route("/borne/enregistrer/<token>", methods=["GET", "POST"])
def enrol(token: str):
    """The operator's one-time link, opened on the kiosk itself (GET shows a button: no change on GET)."""
    form = FlaskForm()
    kiosk = services.pending_enrolment(token)
    if request.method == "POST" and form.validate_on_submit() and kiosk is not None:
        write_intent()
        kiosk = services.complete_enrolment(token)
        if kiosk is not None:
            sessions.logout("kiosk")  # whatever this browser had open does not carry over
            resp = redirect(url_for("kiosk.welcome"), 303)
            resp.set_cookie(
                current_app.config["KIOSK_COOKIE_NAME"],
                services.cookie_value(kiosk),
                max_age=int(timedelta(days=current_app.config["KIOSK_COOKIE_DAYS"]).total_seconds()),
                httponly=True,
                secure=current_app.config["SESSION_COOKIE_SECURE"],
                samesite="Lax",
                path="/",
            )
            return resp
    status = 422 if request.method == "POST" else 200
    return web.render("kiosk/enrol.html", status=status, form=form, kiosk=kiosk)


@bp.get("/borne")
def welcome():
    """The kiosk's welcome screen, where every visit starts and every visit ends."""
    device = services.current_device()
    if device is None:
        return redirect(url_for("auth.login"))
    if web.current_viewer().is_authenticated:
        return redirect(url_for("dashboard.index"))
    resp = web.render("kiosk/welcome.html", device=device)
    # However the previous visit ended (Finish, idle, a session ended on the server), the next
    # one starts here: nothing the browser kept of it survives (the kiosk's cookie does).
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    return resp


@bp.post("/borne/code")
def new_code():
    """A fresh QR code for this kiosk (the previous one stops working)."""
    device = services.current_device()
    if device is None or web.current_viewer().is_authenticated:
        return web.hx_redirect(url_for("kiosk.welcome"))
    write_intent()
    handoff, token = services.new_handoff(device)
    session["kiosk_handoff"] = handoff.id
    link = services.approval_link(token)
    return web.render(
        "kiosk/code.html",
        "kiosk/_code.html",
        device=device,
        qr=services.qr_svg(link),
        seconds=current_app.config["KIOSK_HANDOFF_SECONDS"],
    )


@bp.get("/borne/attente")
@sessions.passive
def waiting():
    """Polled by the welcome screen: nothing yet (204), a new code needed, or the holder approved."""
    device = services.current_device()
    if device is None or web.current_viewer().is_authenticated:
        return web.hx_redirect(url_for("kiosk.welcome"))
    handoff_id = session.get("kiosk_handoff")
    state = services.waiting_state(handoff_id, device)
    if state == "pending":
        return "", 204
    if state == "approved":
        write_intent()
        account = services.claim(handoff_id, device)
        if account is not None:
            session.pop("kiosk_handoff", None)
            complete_login(account, "kiosk-qr", {"kiosk": device.name})
            return web.hx_redirect(url_for("dashboard.index"))
    session.pop("kiosk_handoff", None)
    return web.render("kiosk/code.html", "kiosk/_expired.html", device=device)


@bp.post("/borne/present")
def present():
    """ "I am still here": a tap at the kiosk keeps its session alive (the idle timer's warning)."""
    return "", 204


@bp.route("/borne/valider/<token>", methods=["GET", "POST"])
@web.gate("account", "write")
def approve(viewer, token: str):
    """On the holder's own phone, after scanning a kiosk's QR code: which kiosk, then approve."""
    form = FlaskForm()
    if viewer.kiosk:  # a kiosk never opens another kiosk
        return web.render("kiosk/approve.html", status=403, state="kiosk", form=form, found=None)
    found = services.approval(token)
    if request.method == "POST":
        if not form.validate_on_submit():
            return web.render("kiosk/approve.html", status=400, state="ask", form=form, found=found)
        write_intent()
        done = services.approve(token, viewer.account_id) if found else None
        if done is None:
            return web.render("kiosk/approve.html", status=422, state="gone", form=form, found=None)
        audit.record(viewer, audit.Action.KIOSK_APPROVED, detail={"kiosk": done.kiosk_name})
        return web.render("kiosk/approve.html", state="done", form=form, found=done)
    return web.render("kiosk/approve.html", state="ask" if found else "gone", form=form, found=found)
