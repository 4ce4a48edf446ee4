"""The holder sends a statement the insurer gave them (CSV or FHIR), and follows its job."""

from __future__ import annotations

from flask import request, url_for

from blueprints.measures.imports import jobs
from blueprints.measures.imports.importers.common import Refused
from blueprints.reimbursements import bp
from blueprints.reimbursements.forms import StatementUploadForm
from blueprints.reimbursements.imports import services
from blueprints.reimbursements.imports.statement import COLUMNS
from core import sessions, web
from core.i18n import gettext as _
from core.storage import StorageError

MB = 1024 * 1024
MAX_UPLOAD = 200 * MB


def refusal(reason: str | None) -> str:
    """Why a whole file was refused, in words a person can act on."""
    return {
        "csv_columns": _(
            "This file is not a statement Carnet can read: its first line must name the columns "
            "(reference;date_soins;nature;montant_paye;montant_amo...), separated by semicolons."
        ),
        "json": _("This file is not a readable FHIR file (JSON)."),
        "not_eob": _("This FHIR file holds no ExplanationOfBenefit: it is not a statement of reimbursements."),
        "too_large": _("This file is too large: 200 MB at most (50 MB for FHIR)."),
        "empty": _("This file is empty."),
    }.get(
        reason or "",
        _(
            "The import stopped on an unexpected problem. What was already imported is kept: "
            "send the file again to finish, nothing will be counted twice."
        ),
    )


def reason_label(reason: str) -> str:
    return {
        "no_reference": _("No insurer's reference"),
        "bad_date": _("Date not readable"),
        "bad_amount": _("Amount not readable"),
        "bad_nature": _("Nature of care not recognised"),
        "bad_status": _("Status not recognised"),
        "bad_rate": _("Rate not readable"),
        "other_person": _("Line of another person (another social security number)"),
    }.get(reason, reason)


def _context(viewer, form, error=None) -> dict:
    return {"form": form, "error": error, "columns": COLUMNS, "imports": services.recent(viewer)}


@bp.get("/importer")
@web.gate("reimbursements", "write")
def import_index(viewer):
    return web.render("reimbursements/import.html", **_context(viewer, StatementUploadForm()))


@bp.post("/importer")
@web.gate("reimbursements", "write")
def import_upload(viewer):
    request.max_content_length = MAX_UPLOAD + MB
    form = StatementUploadForm()
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            imp = services.send(viewer, upload.filename or "", upload.stream)
        except Refused as exc:
            error = refusal(exc.reason)
        except StorageError:
            error = refusal("internal")
        else:
            services.launch(imp)
            return web.hx_redirect(url_for("reimbursements.import_show", import_id=imp.id))
    return web.render(
        "reimbursements/import.html",
        "reimbursements/_import_form.html",
        status=422,
        **_context(viewer, form, error),
    )


def _job(imp) -> dict:
    reasons = {k: v for k, v in (imp.reasons or {}).items() if not k.startswith("_")}
    return {
        "imp": imp,
        "running": imp.status in ("pending", "running"),
        "percent": min(100, round(100 * (imp.done_bytes or 0) / imp.size)) if imp.size else 0,
        "replaced": (imp.options or {}).get("replaced", 0),
        "completed": (imp.options or {}).get("completed", 0),  # by a mutuelle's EOB (imports/writer.py)
        "reasons": [(reason_label(k), v["count"], v.get("examples") or []) for k, v in sorted(reasons.items())],
        "not_kept": (imp.reasons or {}).get("_ignored") or {},
        "error": refusal(imp.error) if imp.status == "failed" else None,
    }


@bp.get("/importer/<import_id>")
@web.gate("reimbursements", "write")
def import_show(viewer, import_id: str):
    imp = services.get(viewer, import_id)
    return web.render("reimbursements/import_job.html", **_job(imp))


@bp.get("/importer/<import_id>/progression")
@web.gate("reimbursements", "write")
@sessions.passive
def import_progress(viewer, import_id: str):
    imp = services.get(viewer, import_id)
    jobs.take_over_if_dead(imp)
    return web.render("reimbursements/import_job.html", "reimbursements/_import_progress.html", **_job(imp))


@bp.record_once
def _exempt_upload(state):
    """The upload checks CSRF through its form, after raising the size limit (as measures do)."""
    state.app.extensions["csrf"].exempt(f"{__name__}.import_upload")
