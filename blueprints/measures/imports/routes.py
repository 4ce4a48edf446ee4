"""Importing measures from a device or an app's file: choose and send the file, see the CSV
preview, follow the progress (polled), read the summary."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, request, url_for

from blueprints.measures import bp, kinds
from blueprints.measures.imports import jobs, services
from blueprints.measures.imports.forms import ConfirmForm, ImportForm
from blueprints.measures.imports.importers import csvfile
from blueprints.measures.imports.importers.common import Refused, local_iso
from blueprints.measures.imports.upload import FORMATS, MAX_RATIO, MAX_UPLOAD, MB, preview, store_upload
from blueprints.measures.models import MeasureImport
from core import access, sessions, web
from core.clock import PARIS
from core.i18n import gettext as _
from core.storage import StorageError

MAX_MB = MAX_UPLOAD // MB
MAX_GB = MAX_UPLOAD // (1024 * MB)
ACCEPT = {
    "apple": ".zip,.xml,application/zip,text/xml",
    "fhir": ".json,application/json,application/fhir+json",
    "csv": ".csv,.txt,text/csv",
}


@bp.before_app_request
def _watch_imports():
    """A worker's first request starts its watch over dead imports (a dict lookup after that)."""
    jobs.watch(current_app._get_current_object())


@bp.record_once
def _exempt_upload(state):
    """The upload checks CSRF through its form, after raising the size limit: the global check
    would read (and refuse) the whole body before the view can do so."""
    state.app.extensions["csrf"].exempt(f"{__name__}.import_upload")


def refusal(reason: str | None) -> str:
    """Why a whole file was refused, in words a person can act on."""
    messages = {
        "entities": _(
            "This file declares XML entities, which Carnet refuses for safety (they are a known way "
            "to attack a server). Export the file again from the Health app, without changing it."
        ),
        "xml": _(
            "This file is not a readable Apple Health export: it is damaged or incomplete. "
            "Export it again from the Health app."
        ),
        "no_export": _(
            "This is not an Apple Health export: send the export.zip file, or the export.xml file inside it."
        ),
        "zip": _("This zip file could not be read: it may be damaged or incomplete. Export it again."),
        "json": _("This file is not a FHIR file (JSON): check that you chose the right kind of file."),
        "not_fhir": _("This JSON file is not a FHIR Bundle of Observations."),
        "csv_columns": _(
            "This file could not be read as a table: its first line must name its columns, separated "
            "by ; or , (for example: Date;Poids (kg)). Save it again as CSV from your spreadsheet or app."
        ),
        "too_large": _("This file is too large: %(gb)s GB at most (50 MB for FHIR, 200 MB for CSV).", gb=MAX_GB),
        "inflates": _(
            "Once unzipped, this file would be more than %(ratio)s times larger than the zip, far more "
            "than a Health export: Carnet refuses it for safety. Export the file again from the Health app.",
            ratio=MAX_RATIO,
        ),
        "empty": _("This file is empty."),
    }
    return messages.get(
        reason or "",
        _(
            "The import stopped on an unexpected problem. What was already imported "
            "is kept: send the file again to finish, nothing will be counted twice."
        ),
    )


def reason_label(reason: str) -> str:
    return {
        "implausible": _("Value outside the plausible range (a typo or a wrong unit?)"),
        "unknown_unit": _("Unit not recognised"),
        "bad_value": _("Value not readable"),
        "bad_date": _("Date not readable"),
        "unknown_kind": _("Kind of measure not recognised"),
        "incomplete": _("Incomplete measure (a blood pressure needs both values)"),
        "bad_context": _("Meal context not recognised"),
    }.get(reason, reason)


def example_label(fmt: str, example: dict) -> str:
    kind = kinds.KINDS.get(example.get("kind") or "")
    where = example.get("where")
    place = ""
    if where is not None:
        place = (
            _("line %(n)s", n=where)
            if fmt == "csv"
            else _("entry %(n)s", n=where)
            if fmt == "fhir"
            else str(where)[:16]
        )
    return " · ".join(str(p) for p in (place, kind.label if kind else "") if p)


def _context(imp: MeasureImport) -> dict:
    percent = 100 if imp.status in ("done", "failed") else int(100 * imp.done_bytes / imp.size) if imp.size else 0
    reasons = [
        {
            "label": reason_label(k),
            "count": v["count"],
            "examples": [example_label(imp.format, e) for e in v.get("examples", [])],
        }
        for k, v in (imp.reasons or {}).items()
        if not k.startswith("_")
    ]
    ignored = sorted((imp.reasons or {}).get("_ignored", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "imp": imp,
        "percent": min(100, percent),
        "reasons": reasons,
        "ignored_types": ignored,
        "ignored_more": (imp.reasons or {}).get("_ignored_more"),
        "refusal": refusal(imp.error) if imp.status == "failed" else None,
        "measures_url": _measures_url(),
    }


def _measures_url() -> str:
    return url_for("measures.index") if "measures.index" in current_app.view_functions else "/constantes"


def _form_context(viewer, form, error=None) -> dict:
    return {
        "form": form,
        "error": error,
        "max_gb": MAX_GB,
        "max_bytes": MAX_UPLOAD,
        "accept": ACCEPT,
        "recent": services.recent_imports(viewer),
        "measures_url": _measures_url(),
    }


@bp.get("/importer")
@web.gate("measures", "write")
def import_index(viewer):
    jobs.resume(viewer.patient_id)
    return web.render("measures/import.html", **_form_context(viewer, ImportForm()))


@bp.post("/importer")
@web.gate("measures", "write")
def import_upload(viewer):
    request.max_content_length = MAX_UPLOAD + MB  # only here: Apple exports are large
    form = ImportForm()
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            imp = store_upload(viewer, form.format.data, upload.filename or "", upload.stream)
        except Refused as exc:
            error = refusal(exc.reason)
        else:
            services.launch_import(imp)
            return web.hx_redirect(url_for("measures.import_show", import_id=imp.id))
    return web.render(
        "measures/import.html", "measures/_import_form.html", status=422, **_form_context(viewer, form, error)
    )


@bp.errorhandler(413)
def _too_large(exc):
    if request.endpoint == "measures.import_upload":
        return web.render(
            "errors/error.html",
            "measures/_import_too_large.html",
            status=413,
            code=413,
            title=_("File too large"),
            message=refusal("too_large"),
        )
    return web.error_page(413)


def preview_when(taken_at: int, offset: int) -> str:
    """'02/03/2026 08:30' as the device wrote it, with its UTC offset when not France's."""
    text = local_iso(taken_at, offset)
    shown = f"{text[8:10]}/{text[5:7]}/{text[:4]} {text[11:16]}"
    paris = int(datetime.fromtimestamp(taken_at, PARIS).utcoffset().total_seconds() // 60)
    return shown if offset == paris else f"{shown} (UTC{text[16:]})"


def choice_error(reason: str) -> str:
    return {
        "no_date": _("Choose the column that holds the date of each measure."),
        "no_kind": _("Choose at least one column of measures to import."),
        "half_pressure": _(
            "A blood pressure needs two columns: choose the systolic one (the high number) and the "
            "diastolic one (the low number)."
        ),
        "date_twice": _("The date column cannot also be a column of measures: choose “Do not import” for it."),
    }.get(reason, reason)


def _preview_page(imp: MeasureImport, form_values: dict | None = None, error: str | None = None) -> dict:
    """What the preview shows: the mapping, the first rows, and the column chooser (filled with
    what Carnet understood, or with what the person just sent)."""
    page = _context(imp)
    try:
        page["preview"] = preview(imp)
    except (Refused, StorageError):
        page["preview"] = None
    options = imp.options or {}
    layout = csvfile.layout(options)
    if form_values is None:
        picks = {c["index"]: csvfile.choice_of(c) for c in options.get("columns") or []}
        for role in ("time", "tz", "source"):
            if options.get(role) is not None:
                picks[options[role]] = role
        form_values = {"date": options.get("date"), "picks": picks}
    wide = {c["index"]: c for c in options.get("columns") or []}
    roles = {options.get(r): r for r in ("date", "time", "tz", "source") if options.get(r) is not None}
    page.update(
        confirm=ConfirmForm(),
        preview_when=preview_when,
        kinds=kinds.KINDS,
        contexts=kinds.MEAL_CONTEXTS,
        reason_label=reason_label,
        refusal=refusal,
        layout=layout,
        choices=csvfile.choices(),
        chosen=form_values,
        choice_error=error,
        wide=wide,
        roles=roles,
        unit_label=csvfile.unit_label,
    )
    return page


def _measures_import(viewer, import_id: str) -> MeasureImport:
    """One of the viewer's measure imports (another feature's job is not found here)."""
    imp = access.get_or_404(viewer, MeasureImport, import_id)
    if imp.format not in FORMATS:
        abort(404)
    return imp


@bp.get("/importer/<import_id>")
@web.gate("measures", "write")
def import_show(viewer, import_id: str):
    imp = _measures_import(viewer, import_id)
    page = _preview_page(imp) if imp.status == "preview" else _context(imp)
    return web.render("measures/import_job.html", **page)


@bp.post("/importer/<import_id>/colonnes")
@web.gate("measures", "write")
def import_columns(viewer, import_id: str):
    """The person says what each column of a CSV file holds (a file Carnet did not recognise,
    or a correction): the preview is shown again with their choice, nothing is saved yet."""
    imp = _measures_import(viewer, import_id)
    if imp.status != "preview" or imp.format != "csv" or not ConfirmForm().validate_on_submit():
        return web.hx_redirect(url_for("measures.import_show", import_id=imp.id))
    n = len((imp.options or {}).get("headers") or [])
    picks = {i: request.form.get(f"col-{i}", "") for i in range(n)}
    date = request.form.get("date")
    try:
        options = csvfile.apply_choice(imp.options or {}, date, picks)
    except csvfile.ChoiceError as exc:
        page = _preview_page(
            imp, {"date": int(date) if (date or "").isdigit() else None, "picks": picks}, choice_error(exc.args[0])
        )
        return web.render("measures/import_job.html", status=422, **page)
    services.choose_columns(imp, options)
    return web.hx_redirect(url_for("measures.import_show", import_id=imp.id) + "#preview-title")


@bp.get("/importer/<import_id>/progression")
@web.gate("measures", "write")
@sessions.passive
def import_progress(viewer, import_id: str):
    imp = _measures_import(viewer, import_id)
    jobs.take_over_if_dead(imp)  # its worker died: go on now, not at the next watch
    return web.render("measures/import_job.html", "measures/_import_progress.html", **_context(imp))


@bp.post("/importer/<import_id>/confirmer")
@web.gate("measures", "write")
def import_confirm(viewer, import_id: str):
    imp = _measures_import(viewer, import_id)
    if ConfirmForm().validate_on_submit() and csvfile.layout(imp.options or {}) != "unknown":
        services.confirm_import(imp)
    return web.hx_redirect(url_for("measures.import_show", import_id=imp.id))


@bp.post("/importer/<import_id>/annuler")
@web.gate("measures", "write")
def import_cancel(viewer, import_id: str):
    imp = _measures_import(viewer, import_id)
    if ConfirmForm().validate_on_submit() and imp.status == "preview":
        services.cancel_import(imp)
        flash(_("Import cancelled: the file was deleted."), "success")
        return web.hx_redirect(url_for("measures.import_index"))
    return web.hx_redirect(url_for("measures.import_show", import_id=imp.id))
