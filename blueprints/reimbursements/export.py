"""The relevé of a period: a PDF (WeasyPrint, bounded: core.pdf) and a CSV (';', BOM,
formula-safe: core.csvout) in the statement's own columns, so it can be read back."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from blueprints.reimbursements import services
from blueprints.reimbursements.imports.statement import COLUMNS
from core import audit, csvout, pdf
from core.access import Viewer
from core.clock import paris_today
from core.db import db
from core.i18n import gettext as _
from core.identifiers import format_nir
from core.people import Patient

MAX_DAYS = 3 * 366  # a relevé covers at most three years
MAX_LINES = 1500  # what one PDF lays out within its bounds


class PeriodError(ValueError):
    """The period asked for cannot be printed; the message says why, in words."""


def check_period(start: date | None, end: date | None) -> tuple[date, date]:
    if start is None or end is None:
        raise PeriodError(_("Give the first and the last day of the period."))
    if end < start:
        raise PeriodError(_("The last day comes before the first one."))
    if (end - start).days > MAX_DAYS:
        raise PeriodError(_("A statement covers three years at most: choose a shorter period."))
    return start, end


def _decimal(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def csv_chunks(viewer: Viewer, start: date, end: date):
    lines = services.period_lines(viewer, start, end)
    status = {"paid": "payé", "pending": "en attente", "rejected": "rejeté"}
    rows = [
        [
            r.reference,
            r.care_date.strftime("%d/%m/%Y"),
            r.paid_on.strftime("%d/%m/%Y") if r.paid_on else "",
            r.nature,
            r.act,
            r.provider,
            _decimal(r.charged),
            _decimal(r.base),
            str(r.rate),
            _decimal(r.amo),
            _decimal(r.participation),
            _decimal(r.franchise),
            _decimal(r.amc),
            _decimal(r.remainder),
            status.get(r.status, r.status),
            r.rejection or "",
            r.issued_at.strftime("%d/%m/%Y") if r.issued_at else "",
        ]
        for r in lines
    ]
    amounts = {6, 7, 8, 9, 10, 11, 12, 13}
    return csvout.stream(list(COLUMNS), [rows], safe=amounts)


def _holder(viewer: Viewer) -> dict:
    """Whose relevé it is, as its heading prints it: the name and the NIR, as the insurer does."""
    patient = db.session.execute(
        select(Patient.given_names, Patient.family_name, Patient.nir).where(Patient.id == viewer.patient_id)
    ).one()
    return {"name": f"{patient.given_names} {patient.family_name}", "nir": format_nir(patient.nir)}


def pdf_bytes(viewer: Viewer, start: date, end: date) -> bytes:
    lines = services.period_lines(viewer, start, end)
    if len(lines) > MAX_LINES:
        raise PeriodError(_("This period holds too many lines for one statement: choose a shorter period."))
    return pdf.render(
        "reimbursements/print_statement.html",
        lines=lines,
        totals=services.totals(lines),
        start=start,
        end=end,
        holder=_holder(viewer),
        today=paris_today(),
    )


def traced(viewer: Viewer, fmt: str, start: date, end: date) -> None:
    audit.record(
        viewer,
        audit.Action.REIMBURSEMENTS_EXPORTED,
        None,
        detail={"format": fmt, "start": start.isoformat(), "end": end.isoformat()},
    )


def filename(fmt: str, start: date, end: date) -> str:
    return f"carnet-remboursements-{start.isoformat()}-{end.isoformat()}.{fmt}"
