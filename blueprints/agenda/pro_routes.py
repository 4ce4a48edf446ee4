"""A professional's appointments with one patient, from the record their permanent access
opens: propose one; when the patient asks for another time, take it or propose yet another;
cancel. Every page is traced like the rest of the record (blueprints/pro)."""

from __future__ import annotations

from flask import flash, request, url_for

from blueprints.agenda import appointments as appts, bp
from blueprints.agenda.forms import CounterForm, ProposalForm
from blueprints.pro import services as pro
from core import access, web
from core.i18n import gettext as _


def again_form(appt_id: str, formdata=None) -> CounterForm:
    """The "propose another time" form of one appointment (prefixed: a page holds several)."""
    return CounterForm(formdata=formdata, prefix=f"a{appt_id[:8]}")


def _page(viewer, form, status=200, fragment="agenda/_proposal_form.html", sent=None, **context):
    """The record's agenda page; `sent`: a "propose another time" form that needs attention."""
    pro.viewed(viewer, "agenda")
    agenda = appts.for_professional(viewer)
    again = {r.id: again_form(r.id) for r in agenda["open"] if r.status == "countered"}
    if sent is not None:
        again[context["r"].id] = sent
    return web.render(
        "agenda/pro.html",
        fragment,
        status=status,
        rec=pro.header(viewer),
        agenda=agenda,
        form=form,
        again=again,
        **context,
    )


def _stale(a) -> str | None:
    """Why an answer comes too late: nothing asked, or the patient changed their request since."""
    if a.status != "countered":
        return _("Nothing to answer: the patient has not asked for another time.")
    if not appts.current(a, request.values.get("version")):
        return _("The patient changed their request meanwhile: see it before answering.")
    return None


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
    if stale := _stale(a):
        flash(stale, "info")
    elif a.counter_starts_at is not None and appts.begun_at(a.counter_starts_at):
        flash(_("The time the patient asked for has passed: propose another one."), "info")
    else:
        appts.confirm_counter(viewer, a, request.values.get("version"))
        flash(_("New time confirmed: the patient is told."), "success")
    return web.hx_redirect(url_for("agenda.record_agenda", access_id=access_id))


@bp.post("/dossier/<access_id>/<appt_id>/autre-horaire")
@web.gate(access.RECORD_AGENDA, "write", record=True)
def record_repropose(viewer, access_id: str, appt_id: str):
    """Another time again, in answer to the one the patient asked for."""
    a = appts.get(viewer, appt_id)
    if stale := _stale(a):
        flash(stale, "info")
        return web.hx_redirect(url_for("agenda.record_agenda", access_id=access_id))
    form = again_form(a.id, request.form)
    if form.validate_on_submit():
        appts.repropose(viewer, a, form.starts_at(), request.values.get("version"))
        flash(_("Another time proposed: the patient is told and will answer."), "success")
        return web.hx_redirect(url_for("agenda.record_agenda", access_id=access_id))
    return _page(
        viewer,
        ProposalForm(formdata=None),
        status=422,
        fragment="agenda/_repropose_form.html",
        sent=form,
        r=appts.row(viewer, a),
    )


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
