"""Medical profile, administrative data and "Ma santé en résumé".

Each block and each list item edits in place: htmx asks for the form fragment, posts it,
gets the form back with a 422 when something is wrong, or the read-only fragment when it
is saved. Without JavaScript the same URLs are plain pages and plain form posts.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from blueprints.profile import bp, services
from core import web
from core.i18n import gettext as _


def _back(endpoint: str, anchor: str) -> str:
    return url_for(endpoint) + "#" + anchor


@bp.get("")
@web.gate("profile")
def index(viewer):
    return web.render("profile/index.html", profile=services.profile_page(viewer))


@bp.get("/administratif")
@web.gate("profile")
def administrative(viewer):
    return web.render("profile/administrative.html", profile=services.administrative_page(viewer))


@bp.get("/resume")
@web.gate("profile")
def summary(viewer):
    return web.render("profile/summary.html", s=services.summary(viewer))


# --------------------------------------------------------------------------- blocks of single values


@bp.route("/<slug>/modifier", methods=["GET", "POST"])
@web.gate("profile", "write")
def block_edit(viewer, slug: str):
    block = services.block_or_404(slug)
    back = _back(block.endpoint, f"block-{block.key}")
    if block.sensitive:
        # back to this very form once confirmed (a GET); a refused POST goes back to its page
        answer = web.ask_fresh_authentication(None if request.method == "GET" else url_for(block.endpoint))
        if answer is not None:
            return answer
    target = services.patient(viewer) if block.on_patient else services.facts(viewer)
    if request.method == "GET" and request.args.get("annuler"):
        if not web.wants_fragment():
            return redirect(back, 303)
        return web.render(
            "profile/block_form.html", "profile/_block.html", b=services.block_view(viewer, block, target, target)
        )
    form = services.build_form(viewer, block, services.block_target(viewer, block, target, target))
    if form.validate_on_submit():
        problem = services.save_block(viewer, block, form)
        if problem is None:
            if web.wants_fragment():
                fresh = services.patient(viewer) if block.on_patient else services.facts(viewer)
                return web.render(
                    "profile/block_form.html", "profile/_block.html", b=services.block_view(viewer, block, fresh, fresh)
                )
            flash(_("Changes saved."), "success")
            return redirect(back, 303)
        form.nir.errors = [problem]
    status = 422 if form.is_submitted() else 200
    return web.render(
        "profile/block_form.html",
        "profile/_block_form.html",
        status=status,
        form=form,
        b=services.block_view(viewer, block, target, target),
        back=back,
    )


# --------------------------------------------------------------------------- list sections


def _section_fragment(viewer, section):
    """After an add or a removal the whole section is redrawn (list, empty state, add button)."""
    resp = web.render("profile/index.html", "profile/_section.html", s=services.section_view(viewer, section))
    resp.headers["HX-Retarget"] = f"#section-{section.key}"
    resp.headers["HX-Reswap"] = "outerHTML"
    return resp


@bp.route("/<slug>/ajouter", methods=["GET", "POST"])
@web.gate("profile", "write")
def item_add(viewer, slug: str):
    section = services.section_or_404(slug)
    back = _back("profile.index", f"section-{section.key}")
    if request.method == "GET" and request.args.get("annuler"):
        if not web.wants_fragment():
            return redirect(back, 303)
        return web.render("profile/item_form.html", "profile/_add.html", s=services.section_view(viewer, section))
    form = services.new_form(viewer, section)
    if form.validate_on_submit():
        services.add_item(viewer, section, form)
        if web.wants_fragment():
            return _section_fragment(viewer, section)
        flash(_("Added to your health profile."), "success")
        return redirect(back, 303)
    status = 422 if form.is_submitted() else 200
    return web.render(
        "profile/item_form.html",
        "profile/_add.html",
        status=status,
        form=form,
        item=None,
        s=services.section_view(viewer, section, rows=[]),
        back=back,
    )


@bp.route("/<slug>/<item_id>/modifier", methods=["GET", "POST"])
@web.gate("profile", "write")
def item_edit(viewer, slug: str, item_id: str):
    section = services.section_or_404(slug)
    obj = services.item(viewer, section, item_id)
    back = _back("profile.index", f"section-{section.key}")

    def row():
        ctx = {"treatments": services.treatment_names(viewer)} if section.key == "allergies" else {}
        return web.render(
            "profile/item_form.html",
            "profile/_item.html",
            s=services.section_view(viewer, section, rows=[]),
            row=services.row_view(section, obj, ctx),
        )

    if request.method == "GET" and request.args.get("annuler"):
        return row() if web.wants_fragment() else redirect(back, 303)
    form = services.new_form(viewer, section, obj)
    if form.validate_on_submit():
        services.update_item(viewer, section, obj, form)
        if web.wants_fragment():
            return row()
        flash(_("Changes saved."), "success")
        return redirect(back, 303)
    status = 422 if form.is_submitted() else 200
    return web.render(
        "profile/item_form.html",
        "profile/_item_form.html",
        status=status,
        form=form,
        item=obj,
        s=services.section_view(viewer, section, rows=[]),
        back=back,
    )


@bp.post("/<slug>/<item_id>/supprimer")
@web.gate("profile", "write")
def item_remove(viewer, slug: str, item_id: str):
    section = services.section_or_404(slug)
    obj = services.item(viewer, section, item_id)
    services.remove_item(viewer, section, obj)
    if web.wants_fragment():
        return _section_fragment(viewer, section)
    flash(_("Removed from your health profile."), "success")
    return redirect(_back("profile.index", f"section-{section.key}"), 303)
