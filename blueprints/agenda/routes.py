"""The holder's agenda: appointments (their own and professionals' proposals), the prevention
calendar and the private calendar feed. Routes parse, ask the gate, call the services, render."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_babel import format_datetime

from blueprints.agenda import appointments as appts, bp, ical, tell
from blueprints.agenda.forms import AnswerForm, AppointmentForm, CounterForm, FeedForm, ItemForm, MarkForm, SettingsForm
from blueprints.agenda.prevention import services as prevention
from core import access, clock, web
from core.forms import options
from core.i18n import gettext as _


@bp.app_template_filter("agenda_daynum")
def _daynum(value) -> str:
    return format_datetime(value, "d")


@bp.app_template_filter("agenda_month")
def _month(value) -> str:
    return format_datetime(value, "MMM").rstrip(".")


@bp.get("/")
@web.gate("agenda", "read")
def index(viewer):
    return web.render("agenda/index.html", agenda=appts.page(viewer), answer=AnswerForm())


@bp.route("/nouveau", methods=["GET", "POST"])
@web.gate("agenda", "write")
def add(viewer):
    form = AppointmentForm()
    if form.validate_on_submit():
        a = appts.add(viewer, **form.appointment())
        flash(_("Appointment added."), "success")
        return web.hx_redirect(url_for("agenda.show", appt_id=a.id))
    status = 422 if form.is_submitted() else 200
    return web.render("agenda/form.html", "agenda/_form.html", status=status, form=form, appt=None)


@bp.get("/rendez-vous/<appt_id>")
@web.gate("agenda", "read")
def show(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    return web.render(
        "agenda/show.html",
        r=appts.row(viewer, a),
        answer=AnswerForm(reminder=_reminder_choice(a)),
        counter=CounterForm(),
        by_mail=tell.by_mail(viewer.patient_id),
    )


def _reminder_choice(a) -> str:
    """What the reminder menu shows: the holder's choice; for a proposal, the usual day before."""
    if a.reminder_minutes is None:
        return "1440" if a.status == "proposed" else ""
    return str(a.reminder_minutes)


@bp.route("/rendez-vous/<appt_id>/modifier", methods=["GET", "POST"])
@web.gate("agenda", "write")
def edit(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    if a.professional_id is not None:
        return redirect(url_for("agenda.show", appt_id=a.id), 303)
    form = AppointmentForm(obj=None)
    if request.method == "GET":
        local = clock.paris(a.starts_at)
        form.with_name.data, form.day.data, form.at.data = a.with_name, local.date(), local.time()
        form.duration.data, form.place.data, form.reason.data, form.notes.data = (
            a.duration_minutes,
            a.place,
            a.reason,
            a.notes,
        )
        form.reminder.data = "" if a.reminder_minutes is None else str(a.reminder_minutes)
    elif form.validate_on_submit():
        appts.update(viewer, a, **form.appointment())
        flash(_("Appointment saved."), "success")
        return web.hx_redirect(url_for("agenda.show", appt_id=a.id))
    status = 422 if form.is_submitted() else 200
    return web.render("agenda/form.html", "agenda/_form.html", status=status, form=form, appt=appts.row(viewer, a))


@bp.post("/rendez-vous/<appt_id>/supprimer")
@web.gate("agenda", "write")
def delete(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    if a.professional_id is not None:
        appts.cancel(viewer, a)
        flash(_("Appointment cancelled: %(name)s is told.", name=a.with_name), "success")
    else:
        appts.delete(viewer, a)
        flash(_("Appointment removed."), "success")
    return web.hx_redirect(url_for("agenda.index"))


def _stale(a) -> str | None:
    """Why this answer comes too late, if it does: already answered, or a new time proposed
    since the page was shown (the answer names the version it saw)."""
    if a.status != "proposed":
        return _("This proposal was already answered.")
    if not appts.current(a, request.values.get("version")):
        return _("%(name)s proposed another time meanwhile: see it below before answering.", name=a.with_name)
    return None


@bp.post("/rendez-vous/<appt_id>/accepter")
@web.gate("agenda", "write")
def accept(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return web.error_page(400)
    if stale := _stale(a):
        flash(stale, "info")
    elif a.begun():
        flash(_("This time has passed: ask for another one."), "info")
    else:
        appts.accept(viewer, a, form.reminder_minutes(), request.values.get("version"))
        flash(_("Appointment accepted: %(name)s is told.", name=a.with_name), "success")
    return web.hx_redirect(url_for("agenda.show", appt_id=a.id))


@bp.post("/rendez-vous/<appt_id>/refuser")
@web.gate("agenda", "write")
def decline(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    if stale := _stale(a):
        flash(stale, "info")
        return web.hx_redirect(url_for("agenda.show", appt_id=a.id))
    appts.decline(viewer, a, request.values.get("version"))
    flash(_("Appointment declined: %(name)s is told.", name=a.with_name), "success")
    return web.hx_redirect(url_for("agenda.index"))


@bp.post("/rendez-vous/<appt_id>/autre-horaire")
@web.gate("agenda", "write")
def counter(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    form = CounterForm()
    if stale := _stale(a):
        flash(stale, "info")
        return web.hx_redirect(url_for("agenda.show", appt_id=a.id))
    if form.validate_on_submit():
        appts.counter(viewer, a, form.starts_at(), request.values.get("version"))
        flash(_("Your request is sent: %(name)s will answer.", name=a.with_name), "success")
        return web.hx_redirect(url_for("agenda.show", appt_id=a.id))
    return web.render(
        "agenda/show.html",
        "agenda/_counter_form.html",
        status=422,
        r=appts.row(viewer, a),
        answer=AnswerForm(),
        counter=form,
        by_mail=tell.by_mail(viewer.patient_id),
    )


@bp.post("/rendez-vous/<appt_id>/rappel")
@web.gate("agenda", "write")
def reminder(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return web.error_page(400)
    appts.set_reminder(viewer, a, form.reminder_minutes())
    flash(_("Reminder saved."), "success")
    return web.hx_redirect(url_for("agenda.show", appt_id=a.id))


@bp.get("/rendez-vous/<appt_id>/rendez-vous.ics")
@web.gate("agenda", "read")
def download(viewer, appt_id: str):
    a = appts.get(viewer, appt_id)
    return Response(
        ical.one(a),
        mimetype="text/calendar",
        headers={"Content-Disposition": 'attachment; filename="rendez-vous.ics"'},
    )


# --------------------------------------------------------------------------- prevention calendar


def _item_answer(viewer, row):
    """The item alone for htmx; the page otherwise."""
    if web.wants_fragment():
        return web.render(
            "agenda/prevention.html", "agenda/_item.html", item=row, mark=_mark_form(viewer, row.key), swapped=True
        )
    return redirect(url_for("agenda.prevention") + f"#item-{row.key.replace('@', '-')}", 303)


def _mark_form(viewer, key: str = "", formdata=None) -> MarkForm:
    form = MarkForm(formdata=formdata, item=key)
    form.link.choices = options(prevention.link_choices(viewer))
    return form


@bp.get("/prevention", endpoint="prevention")
@web.gate("agenda", "read")
def prevention_page(viewer):
    return web.render(
        "agenda/prevention.html",
        cal=prevention.calendar(viewer),
        mark=_mark_form(viewer),
        settings=SettingsForm(prevention=not prevention.settings(viewer.patient_id).prevention_off),
    )


@bp.post("/prevention/fait")
@web.gate("agenda", "write")
def prevention_done(viewer):
    form = _mark_form(viewer, formdata=request.form)
    if not form.validate_on_submit():
        if not form.item.data or form.csrf_token.errors:
            return web.error_page(400)
        row = prevention.item_row(viewer, form.item.data)
        error = _("Choose a date that has passed and, if you wish, what to link.")
        return web.render(
            "agenda/prevention.html",
            "agenda/_item.html",
            status=422,
            item=row,
            mark=form,
            error=error,
            error_key=row.key,
            cal=prevention.calendar(viewer),
            settings=SettingsForm(formdata=None, prevention=True),
        )
    return _item_answer(viewer, prevention.mark_done(viewer, form.item.data, form.done_on.data, form.link.data))


@bp.post("/prevention/ecarter")
@web.gate("agenda", "write")
def prevention_dismiss(viewer):
    form = ItemForm()
    if not form.validate_on_submit():
        return web.error_page(422)
    return _item_answer(viewer, prevention.dismiss(viewer, form.item.data))


@bp.post("/prevention/retablir")
@web.gate("agenda", "write")
def prevention_restore(viewer):
    form = ItemForm()
    if not form.validate_on_submit():
        return web.error_page(422)
    return _item_answer(viewer, prevention.restore(viewer, form.item.data))


@bp.post("/prevention/reglage")
@web.gate("agenda", "write")
def prevention_settings(viewer):
    form = SettingsForm()
    if not form.validate_on_submit():
        return web.error_page(400)
    prevention.set_enabled(viewer, bool(form.prevention.data))
    flash(
        _("Prevention calendar turned on.") if form.prevention.data else _("Prevention calendar turned off."),
        "success",
    )
    return web.hx_redirect(url_for("agenda.prevention"))


# --------------------------------------------------------------------------- calendar feed


@bp.get("/abonnement")
@web.gate("agenda", "share")
def feed_page(viewer):
    state = ical.feed_state(viewer)
    return web.render("agenda/feed.html", feed=state, form=FeedForm(details=state["details"]), token_url=None)


@bp.post("/abonnement/nouveau")
@web.gate("agenda", "share")
def feed_new(viewer):
    form = FeedForm()
    if not form.validate_on_submit():
        return web.error_page(400)
    token = ical.new_feed(viewer, bool(form.details.data))
    url = url_for("agenda.feed", token=token, _external=True)
    return web.render("agenda/feed.html", feed=ical.feed_state(viewer), form=form, token_url=url)


@bp.post("/abonnement/details")
@web.gate("agenda", "share")
def feed_details(viewer):
    form = FeedForm()
    if not form.validate_on_submit():
        return web.error_page(400)
    ical.set_feed_details(viewer, bool(form.details.data))
    flash(_("Subscription saved."), "success")
    return web.hx_redirect(url_for("agenda.feed_page"))


@bp.post("/abonnement/arreter")
@web.gate("agenda", "share")
def feed_revoke(viewer):
    ical.revoke_feed(viewer)
    flash(_("The subscription link no longer works. Calendar apps that used it stop updating."), "success")
    return web.hx_redirect(url_for("agenda.feed_page"))


@bp.get("/flux/<token>.ics")
@web.gate(access.FEED, "read", token=ical.feed_patient)
def feed(viewer, token: str):
    """What a calendar app subscribes to: no session, the token is the credential."""
    return Response(ical.feed(viewer), mimetype="text/calendar", headers={"Content-Disposition": "inline"})
