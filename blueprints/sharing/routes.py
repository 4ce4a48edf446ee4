"""Sharing screens: the overview, making a share (code, QR, printed slip), ending shares.

Grants, blocks, emergency settings and notifications live in routes_people.py (same
blueprint). Every route has the gate of the holder's "sharing" section: @web.gate("sharing", ...).
"""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for

from blueprints.sharing import bp, services
from blueprints.sharing.forms import ShareForm
from blueprints.sharing.page import back, page_context
from core import pdf, web
from core.i18n import gettext as _, ngettext


@bp.get("")
@web.gate("sharing")
def index(viewer):
    return web.render("sharing/index.html", **page_context(viewer))


@bp.route("/nouveau", methods=["GET", "POST"])
@web.gate("sharing", "write")
def new(viewer):
    """The form; on success, the one page that ever shows the code and the QR code."""
    answer = web.ask_fresh_authentication(None if request.method == "GET" else url_for("sharing.new"))
    if answer is not None:
        return answer
    form = ShareForm()
    problem, status = None, 200
    if form.validate_on_submit():
        try:
            made = services.create(
                viewer, form.scope(), form.duration.data, form.until.data, form.can_deposit.data, form.label.data
            )
        except services.TooManyShares:
            problem, status = too_many(), 422
        except services.NoCodeNow:
            problem, status = _("No code could be made just now. Please try again in a moment."), 503
        else:
            return web.render("sharing/created.html", **_created_context(made.share, made.code, made.token))
    elif form.is_submitted():
        status = 422
    elif services.live_count(viewer) >= services.MAX_LIVE_SHARES:
        problem = too_many()  # said before the form is filled in for nothing
    return web.render("sharing/new.html", "sharing/_new_form.html", status=status, form=form, problem=problem)


def too_many() -> str:
    return _(
        "You already have %(num)d shares in progress, the most at once. End some of them first, then create this one.",
        num=services.MAX_LIVE_SHARES,
    )


def _created_context(share, code: str, token: str) -> dict:
    link = services.link(token)
    return {
        "share": share,
        "code": code,
        "groups": services.grouped(code),
        "token": token,
        "link": link,
        "entry": services.link(None),
        "qr": services.qr_svg(link),
        "covers": services.scope_labels(share.scope, share.can_deposit),
    }


@bp.post("/<share_id>/fiche")
@web.gate("sharing")
def print_slip(viewer, share_id: str):
    """The printed slip: the code and the token come back from the page that showed them and
    must hash to this share; nothing else can print a code."""
    share = services.get(viewer, share_id)
    code, token = request.form.get("code", ""), request.form.get("token", "")
    if not services.secrets_match(share, code, token):
        abort(400)
    services.record_printed(viewer, share)
    data = pdf.render("sharing/print_slip.html", **_created_context(share, code, token))
    resp = Response(data, content_type="application/pdf")
    resp.headers["Content-Disposition"] = 'inline; filename="carnet-partage.pdf"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/<share_id>/termine")
@web.gate("sharing")
def done(viewer, share_id: str):
    """ "Done" on the new share's page: straight to the shares once the code was printed (the
    print route traced it) or copied (app.js sends copie=1); otherwise ask once, in the page."""
    share = services.get(viewer, share_id)
    if request.args.get("annuler") and web.wants_fragment():
        return web.render("sharing/done.html", "sharing/_done.html", share=share)
    kept = request.args.get("copie") == "1" or services.was_printed(viewer, share)
    if kept or request.args.get("annuler"):
        return web.hx_redirect(back("partages"))
    return web.render("sharing/done.html", "sharing/_done_confirm.html", share=share)


@bp.post("/<share_id>/revoquer")
@web.gate("sharing", "write")
def revoke(viewer, share_id: str):
    share = services.get(viewer, share_id)
    if services.revoke(viewer, share):
        flash(_("Access ended: this code and its QR code no longer open your space."), "success")
    return web.hx_redirect(back("partages"))


@bp.post("/revoquer-tout")
@web.gate("sharing", "write")
def revoke_all(viewer):
    count = services.revoke_all(viewer)
    flash(
        ngettext("%(num)d share ended.", "%(num)d shares ended.", count) if count else _("No share was running."),
        "success",
    )
    return web.hx_redirect(back("partages"))
