"""A professional's appointments with one patient, from the record their permanent access
opens: propose one, take the other time the patient asked for, or cancel. Every page is
traced like the rest of the record (blueprints/pro)."""

from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _

from blueprints.agenda import appointments as appts, bp
from blueprints.agenda.forms import ProposalForm
from blueprints.pro import services as pro
from core import access, web


def _page(viewer, form, status=200):
    pro.viewed(viewer, "agenda")
    return web.render(
        "agenda/pro.html",
        "agenda/_proposal_form.html",
        status=status,
        rec=pro.header(viewer),
        agenda=appts.for_professional(viewer),
        form=form,
    )


@bp.get("/dossier/<access_id>")
@web.gate(access.RECORD_AGENDA, "read", record=True)
def record_agenda(viewer, access_id: str):
    return _page(viewer, ProposalForm())


@bp.post("/dossier/<access_id>/proposer")
@web.gate(access.RECORD_AGENDA, "write", record=True)
def record_propose(viewer, access_id: str):
    form = ProposalForm()
    if form.validate_on_submit():
        appts.propose(
            viewer,
            starts_at=form.starts_at(),
            duration=form.duration.data,
            place=form.place.data,
            reason=form.reason.data,
            notes=form.notes.data,
        )
        flash(_("Appointment proposed: the patient is told and will answer."), "success")
        return web.hx_redirect(url_for("agenda.record_agenda", access_id=access_id))
    return _page(viewer, form, status=422)


@bp.post("/dossier/<access_id>/<appt_id>/confirmer")
@web.gate(access.RECORD_AGENDA, "write", record=True)
def record_confirm(viewer, access_id: str, appt_id: str):
    a = appts.get(viewer, appt_id)
    if a.status == "countered":
        appts.confirm_counter(viewer, a)
        flash(_("New time confirmed: the patient is told."), "success")
    else:
        flash(_("Nothing to confirm: the patient has not asked for another time."), "info")
    return web.hx_redirect(url_for("agenda.record_agenda", access_id=access_id))


@bp.post("/dossier/<access_id>/<appt_id>/annuler")
@web.gate(access.RECORD_AGENDA, "write", record=True)
def record_cancel(viewer, access_id: str, appt_id: str):
    a = appts.get(viewer, appt_id)
    if a.status in appts.ACTIVE:
        appts.cancel(viewer, a)
        flash(_("Appointment cancelled: the patient is told."), "success")
    else:
        flash(_("This appointment is no longer planned."), "info")
    return web.hx_redirect(url_for("agenda.record_agenda", access_id=access_id))
