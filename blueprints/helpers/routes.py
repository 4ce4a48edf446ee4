"""The holder's helpers (name, change what they may do, end), and, for the person invited, the
invitations to answer and the spaces they help in. Every route has the gate of the "helpers"
section, which only a person in their own space has (never a guardian or a helper)."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_wtf import FlaskForm

from blueprints.helpers import bp, services
from blueprints.helpers.forms import SCOPE_SHORT, InviteForm, ScopeForm
from core import web
from core.access import MAX_HELPERS, Viewer
from core.i18n import gettext as _


def _page(viewer: Viewer, form: InviteForm | None = None, status: int = 200):
    helpers = services.helpers_of(viewer)
    running = sum(1 for h in helpers if h.status in ("invited", "accepted"))
    return web.render(
        "helpers/index.html",
        "helpers/_invite.html",
        status=status,
        helpers=helpers,
        invitations=services.invitations_for(viewer),
        helping=services.helping(viewer),
        form=form or InviteForm(),
        full=running >= MAX_HELPERS,
        max_helpers=MAX_HELPERS,
        short=SCOPE_SHORT,
        scope_form=ScopeForm,
    )


@bp.get("")
@web.gate("helpers", "read")
def index(viewer: Viewer):
    """Who helps me, who asked me to help them, whom I help."""
    return _page(viewer)


@bp.route("/inviter", methods=["GET", "POST"])
@web.gate("helpers", "write")
def invite(viewer: Viewer):
    """Naming a helper opens one's space to someone: it needs a fresh authentication."""
    fresh = web.ask_fresh_authentication(url_for("helpers.index") + "#invite-title")
    if fresh is not None:
        return fresh
    form = InviteForm()
    if request.method == "GET":
        return _page(viewer, form)
    if form.validate_on_submit():
        try:
            services.invite(
                viewer,
                form.email.data,
                form.scopes.data,
                form.include_hidden.data,
                form.starts_on.data,
                form.ends_on.data,
            )
        except services.TooMany:
            form.form_errors.append(_("You already have %(num)d helpers or invitations running.", num=MAX_HELPERS))
        except services.AlreadyNamed:
            form.email.errors = [_("An invitation to this address is already running.")]
        else:
            flash(
                _(
                    "Invitation recorded. If this address is that of a Carnet account, its owner will see it "
                    "in their space and receive a mail; nothing starts until they accept."
                ),
                "success",
            )
            return web.hx_redirect(url_for("helpers.index"))
    return _page(viewer, form, status=422)


@bp.post("/<delegation_id>/portee")
@web.gate("helpers", "write")
def change(viewer: Viewer, delegation_id: str):
    """What a helper may do, changed: it applies from their next request."""
    services.own(viewer, delegation_id)  # someone else's: not found, whatever the form
    form = ScopeForm(prefix=delegation_id)
    if not form.validate_on_submit():
        flash(_("Choose at least one thing this helper may do."), "error")
        return web.hx_redirect(url_for("helpers.index"))
    services.change_scope(viewer, delegation_id, form.scopes.data, form.include_hidden.data)
    flash(_("What this helper may do has changed."), "success")
    return web.hx_redirect(url_for("helpers.index"))


@bp.post("/<delegation_id>/terminer")
@web.gate("helpers", "write")
def end(viewer: Viewer, delegation_id: str):
    """End now: the helper's next request no longer opens this space."""
    if not FlaskForm().validate_on_submit():
        return web.error_page(400)
    services.end(viewer, delegation_id)
    flash(_("This helper no longer has access to your space. They have been told by mail."), "success")
    return web.hx_redirect(url_for("helpers.index"))


@bp.post("/invitations/<delegation_id>/<answer>")
@web.gate("helpers", "write")
def answer(viewer: Viewer, delegation_id: str, answer: str):
    """The invited person accepts ("accepter") or declines ("refuser")."""
    if answer not in ("accepter", "refuser") or not FlaskForm().validate_on_submit():
        return web.error_page(400)
    services.answer(viewer, delegation_id, answer == "accepter")
    if answer == "accepter":
        flash(_("Invitation accepted: choose their space in the switch at the top of the page."), "success")
    else:
        flash(_("Invitation declined."), "info")
    return web.hx_redirect(url_for("helpers.index"))
