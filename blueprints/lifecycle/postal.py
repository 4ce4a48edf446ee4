"""Activation letters for the postal service, printed apart from the batches that made the
spaces: a print shop takes files of a hundred letters, and rendering a PDF costs nearly the
same for one letter as for a hundred.

A space whose letter is due (space_life.letter_due) has no activation code yet: the code is
made when its letter is printed, and stored in the transaction that clears the flag, after
the PDF is written. Printing is therefore resumable: a run that stopped leaves its letters
due, and the next run (or `flask patients letters`) prints them. A PDF written just before a
crash holds codes that were never stored: the letters are printed again with new codes.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, insert, select, update

from blueprints.auth.models import ActivationCode
from blueprints.lifecycle import letters
from blueprints.lifecycle.models import SpaceLife
from core import access, clock, codes
from core.db import db, new_id
from core.people import Patient


def due() -> int:
    return db.session.scalar(select(func.count()).select_from(SpaceLife).where(SpaceLife.letter_due.is_(True)))


def print_due(prefix: str, limit: int | None = None) -> tuple[int, list[str]]:
    """Print the letters due, a PDF of LETTERS_PER_PDF at a time (at most `limit` letters, all
    when None); (letters printed, PDF files written). Files are named letters-PREFIX-NNNNN.pdf,
    never over an existing one."""
    printed, files = 0, []
    while limit is None or printed < limit:
        size = letters.LETTERS_PER_PDF if limit is None else min(letters.LETTERS_PER_PDF, limit - printed)
        rows = db.session.execute(
            select(Patient, SpaceLife.postal_address, SpaceLife.opposition_until)
            .join(SpaceLife, SpaceLife.patient_id == Patient.id)
            .where(SpaceLife.letter_due.is_(True), Patient.status == "pending")
            .order_by(Patient.created_at, Patient.id)
            .limit(size)
        ).all()
        if not rows:
            break
        files.append(str(_print(rows, _free_name(prefix))))
        printed += len(rows)
    return printed, files


def _free_name(prefix: str) -> str:
    folder, number = letters.letters_dir(), 1
    while (folder / f"letters-{prefix}-{number:05d}.pdf").exists():
        number += 1
    return f"letters-{prefix}-{number:05d}.pdf"


def _print(rows, name: str):
    now, today = clock.utcnow(), clock.paris_today()
    adult_born_before = clock.years_after(today, -access.MAJORITY_YEARS)
    fallback = now + timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])
    batch, stored = [], []
    for patient, address, opposition_until in rows:
        code, until = codes.activation_code(), opposition_until or fallback
        child = patient.birth_date > adult_born_before
        name_line = f"{patient.given_names.split()[0]} {patient.family_name}"
        letter = letters.Letter(name_line, code, until, child)
        batch.append((f"{patient.given_names} {patient.family_name}\n{address}", letter))
        stored.append(
            {
                "id": new_id(),
                "patient_id": patient.id,
                "code_hash": codes.keyed_hash(code, "activation"),
                "created_at": now,
                "expires_at": until,
                "attempts": 0,
            }
        )
    path = letters.write_pdf(batch, name)  # the letters first: nothing is stored that was not printed
    ids = [patient.id for patient, _a, _o in rows]
    db.session.execute(
        update(ActivationCode)
        .where(ActivationCode.patient_id.in_(ids), ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    db.session.execute(insert(ActivationCode.__table__), stored)
    db.session.execute(update(SpaceLife).where(SpaceLife.patient_id.in_(ids)).values(letter_due=False))
    db.session.commit()
    db.session.expunge_all()
    return path
