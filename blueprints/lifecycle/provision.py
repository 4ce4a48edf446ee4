"""Bulk provisioning from the insurer's population file: one space per person, created once.

The file is read as a stream, in batches: each batch costs a handful of queries (who exists,
who objected, which emails are taken, which guardians are known), its mails are queued before
its rows are written, then it commits. Postal letters are printed apart, a PDF per hundred
(blueprints.lifecycle.postal): a space by post has its code when its letter is printed.
Memory stays flat whatever the file's length; running the same file again creates nothing.
Refused lines go to a report file with their reason, as they come.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import insert, select

from blueprints.auth.models import ActivationCode
from blueprints.lifecycle import guardians as guardianship, letters, postal
from blueprints.lifecycle.models import Guardianship, Opposition, SpaceLife
from core import clock, codes
from core.db import db, new_id
from core.i18n import lazy_gettext as _l
from core.identifiers import clean_nir, mask_nir, valid_nir
from core.people import Account, Patient, normalise_email

COLUMNS = ("nir", "birth_date", "given_names", "family_name", "email", "postal_address", "guardian_nirs")
REQUIRED = ("nir", "birth_date", "given_names", "family_name")
OPPOSITION_WEEKS = 6
MAJORITY = 18

REASONS = {
    "invalid_nir": _l("The social security number is not valid (15 characters with a correct key)."),
    "invalid_birth_date": _l("The date of birth is missing or not a date (YYYY-MM-DD or DD/MM/YYYY)."),
    "birth_date_mismatch": _l("The date of birth does not match the year and month in the social security number."),
    "missing_name": _l("The first names or the birth name are missing."),
    "no_contact": _l("Neither an email address nor a postal address: the letter cannot be sent."),
    "invalid_email": _l("The email address is not valid."),
    "email_in_use": _l("The email address is already used by another account."),
    "opposed": _l("This person objected to their space: it is not created again."),
    "guardian_missing": _l("A minor needs at least one legal guardian (guardian_nirs)."),
    "guardian_unknown": _l("A guardian named for this minor has no space: list the guardian first."),
    "duplicate": _l("This social security number appears twice in the file."),
    "too_long": _l("A field is too long."),
}


class FileProblem(ValueError):
    """The file as a whole cannot be read (no header, missing columns)."""


@dataclass
class Report:
    lines: int = 0
    created: int = 0
    present: int = 0
    refused: Counter = field(default_factory=Counter)
    letters_by_mail: int = 0
    letters_by_post: int = 0
    guardians_added: int = 0  # children already present: guardianships the file adds
    guardians_removed: int = 0  # ... and those it ends
    letter_files: list = field(default_factory=list)

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())


@dataclass
class Line:
    number: int
    nir: str
    birth_date: date
    given_names: str
    family_name: str
    email: str
    postal_address: str
    guardian_nirs: tuple[str, ...]
    minor: bool


def nir_hash(nir: str) -> str:
    """The keyed hash under which an opposition is kept: the NIR itself is not."""
    pepper = current_app.config["CODE_PEPPER"].encode()
    return hmac.new(pepper, f"opposed-nir:{clean_nir(nir)}".encode(), hashlib.sha256).hexdigest()


def _birth_date(text: str) -> date | None:
    text = (text or "").strip()
    try:
        if "/" in text:
            d, m, y = text.split("/")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text)
    except ValueError:
        return None


def _matches_nir(nir: str, born: date) -> bool:
    """Positions 2-5 of a NIR are the year and month of birth (months 20+ mean unknown)."""
    month = int(nir[3:5])
    return nir[1:3] == f"{born.year % 100:02d}" and (month > 12 or month == born.month)


def _parse(number: int, row: dict, today: date) -> Line | str:
    """A line, or the code of the reason it is refused."""
    nir = clean_nir(row.get("nir") or "")
    if not valid_nir(nir):
        return "invalid_nir"
    born = _birth_date(row.get("birth_date"))
    if born is None or born > today:
        return "invalid_birth_date"
    if not _matches_nir(nir, born):
        return "birth_date_mismatch"
    given, family = (row.get("given_names") or "").strip(), (row.get("family_name") or "").strip()
    if not given or not family:
        return "missing_name"
    email = normalise_email(row.get("email") or "")
    address = (row.get("postal_address") or "").strip().replace("\\n", "\n")
    if len(given) > 120 or len(family) > 120 or len(email) > 254 or len(address) > 400:
        return "too_long"
    if not email and not address:
        return "no_contact"
    if email and ("@" not in email or email.startswith("@") or email.endswith("@") or " " in email):
        return "invalid_email"
    guardians = tuple(clean_nir(g) for g in (row.get("guardian_nirs") or "").replace(",", " ").split() if g.strip())
    minor = clock.age(born, today) < MAJORITY
    if minor and not guardians:
        return "guardian_missing"
    if any(not valid_nir(g) for g in guardians):
        return "guardian_unknown"
    return Line(number, nir, born, given, family, email, address, guardians, minor)


def _rows(stream: io.TextIOBase) -> Iterator[tuple[int, dict]]:
    """(line number, row) pairs; `;` or `,` separated, as the header says."""
    header = stream.readline()
    if not header.strip():
        raise FileProblem("the file is empty: its first line must name the columns")
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    names = [h.strip().lower() for h in next(csv.reader([header], delimiter=delimiter))]
    missing = [c for c in REQUIRED if c not in names]
    if missing or not ({"email", "postal_address"} & set(names)):
        raise FileProblem(
            f"missing columns: {', '.join(missing or ['email or postal_address'])} (expected: {', '.join(COLUMNS)})"
        )
    for number, values in enumerate(csv.reader(stream, delimiter=delimiter), start=2):
        if values and any(v.strip() for v in values):
            yield number, dict(zip(names, values, strict=False))


class Provisioner:
    """One run over one file; `report_out` receives the refused lines as CSV."""

    def __init__(self, report_out: io.TextIOBase | None = None, batch_size: int = 500, letters_prefix: str = ""):
        self.report = Report()
        self.out = csv.writer(report_out, delimiter=";") if report_out is not None else None
        if self.out is not None:
            self.out.writerow(["line", "nir", "reason", "explanation"])
        self.batch_size = batch_size
        self.prefix = letters_prefix or clock.utcnow().strftime("%Y%m%dT%H%M%S")
        self.now = clock.utcnow()
        self.today = clock.paris_today()
        self.until = self.now + timedelta(days=current_app.config["ACTIVATION_CODE_DAYS"])
        self.opposition_until = self.now + timedelta(weeks=OPPOSITION_WEEKS)
        self._due = 0  # postal letters of this run not printed yet
        self._explained: dict[str, str] = {}

    def run(self, stream: io.TextIOBase) -> Report:
        batch: list[tuple[int, dict]] = []
        for item in _rows(stream):
            batch.append(item)
            if len(batch) >= self.batch_size:
                self._batch(batch)
                batch = []
        if batch:
            self._batch(batch)
        self._print()  # the last letters, and any an earlier run left due
        return self.report

    def _print(self, limit: int | None = None) -> None:
        printed, files = postal.print_due(self.prefix, limit)
        self.report.letters_by_post += printed
        self.report.letter_files += files

    def _refuse(self, number: int, nir: str, reason: str) -> None:
        self.report.refused[reason] += 1
        if self.out is not None:
            if reason not in self._explained:  # one catalogue switch per reason, not per line
                with force_locale("fr"):
                    self._explained[reason] = str(REASONS[reason])
            self.out.writerow([number, mask_nir(nir) if nir else "", reason, self._explained[reason]])

    def _batch(self, rows: list[tuple[int, dict]]) -> None:
        self.report.lines += len(rows)
        lines: list[Line] = []
        for number, row in rows:
            parsed = _parse(number, row, self.today)
            if isinstance(parsed, str):
                self._refuse(number, clean_nir(row.get("nir") or ""), parsed)
            else:
                lines.append(parsed)
        if not lines:
            return
        nirs = {ln.nir for ln in lines}
        hashes = {ln.nir: nir_hash(ln.nir) for ln in lines}
        existing = dict(db.session.execute(select(Patient.nir, Patient.id).where(Patient.nir.in_(nirs))).all())
        opposed = set(db.session.scalars(select(Opposition.nir_hash).where(Opposition.nir_hash.in_(hashes.values()))))
        adult_emails = {ln.email for ln in lines if ln.email and not ln.minor}
        taken = set(db.session.scalars(select(Account.email).where(Account.email.in_(adult_emails))))
        wanted = {g for ln in lines for g in ln.guardian_nirs}
        guardians = {
            nir: pid for nir, pid in db.session.execute(select(Patient.nir, Patient.id).where(Patient.nir.in_(wanted)))
        }

        patients, accounts, activation, lives, links = [], [], [], [], []
        mails: list[tuple[str, letters.Letter]] = []
        seen: set[str] = set()
        wards: dict[str, set[str]] = {}  # present children: the guardians' NIRs the file names
        for ln in sorted(lines, key=lambda x: x.minor):  # adults first: a parent may come in the same batch
            if ln.nir in existing:
                if ln.minor and any(g not in guardians for g in ln.guardian_nirs):
                    self._refuse(ln.number, ln.nir, "guardian_unknown")
                    continue
                self.report.present += 1
                if ln.minor:
                    wards[existing[ln.nir]] = set(ln.guardian_nirs)
                continue
            reason = None
            if ln.nir in seen:
                reason = "duplicate"
            elif hashes[ln.nir] in opposed:
                reason = "opposed"
            elif ln.email and not ln.minor and ln.email in taken:
                reason = "email_in_use"
            elif ln.minor and any(g not in guardians for g in ln.guardian_nirs):
                reason = "guardian_unknown"
            if reason:
                self._refuse(ln.number, ln.nir, reason)
                continue
            seen.add(ln.nir)
            pid = new_id()
            patients.append(
                {
                    "id": pid,
                    "nir": ln.nir,
                    "birth_date": ln.birth_date,
                    "given_names": ln.given_names,
                    "family_name": ln.family_name,
                    "sex": "M" if ln.nir[0] in "137" else "F",
                    "email": ln.email,
                    "status": "pending",
                    "created_at": self.now,
                }
            )
            if ln.email and not ln.minor:
                taken.add(ln.email)
                accounts.append(
                    {
                        "id": new_id(),
                        "role": "holder",
                        "email": ln.email,
                        "patient_id": pid,
                        "user_handle": _handle(),
                        "active": True,
                        "created_at": self.now,
                    }
                )
            if not ln.minor:
                guardians[ln.nir] = pid
            for g in ln.guardian_nirs if ln.minor else ():
                links.append(
                    {"id": new_id(), "patient_id": pid, "guardian_patient_id": guardians[g], "created_at": self.now}
                )
            lives.append(
                {
                    "patient_id": pid,
                    "postal_address": ln.postal_address or None,
                    "opposition_until": self.opposition_until,
                    "letter_due": not ln.email,  # printed with its code by postal.print_due
                }
            )
            if ln.email:
                code = codes.activation_code()
                activation.append(
                    {
                        "id": new_id(),
                        "patient_id": pid,
                        "code_hash": codes.keyed_hash(code, "activation"),
                        "created_at": self.now,
                        "expires_at": self.until,
                        "attempts": 0,
                    }
                )
                name = f"{ln.given_names.split()[0]} {ln.family_name}"
                mails.append((ln.email, letters.Letter(name, code, self.until, ln.minor)))
        if not patients:
            self._guardians(wards, guardians)
            db.session.commit()
            db.session.expunge_all()
            return
        # Mails queued first, rows after: nothing slow runs while the database is being written.
        letters.send_mails(mails)
        # Core inserts of plain rows: the ORM's bulk path costs more than the database here.
        db.session.execute(insert(Patient.__table__), patients)
        if accounts:
            db.session.execute(insert(Account.__table__), accounts)
        if activation:
            db.session.execute(insert(ActivationCode.__table__), activation)
        db.session.execute(insert(SpaceLife.__table__), lives)
        if links:
            db.session.execute(insert(Guardianship.__table__), links)
        self._guardians(wards, guardians)
        db.session.commit()
        db.session.expunge_all()
        self.report.created += len(patients)
        self.report.letters_by_mail += len(mails)
        self._due += len(patients) - len(mails)
        if self._due >= letters.LETTERS_PER_PDF:
            self._print(limit=self._due - self._due % letters.LETTERS_PER_PDF)
            self._due %= letters.LETTERS_PER_PDF

    def _guardians(self, wards: dict[str, set[str]], known: dict[str, str]) -> None:
        """The file is the source of truth for the guardians of a child already present: those
        it names and who are not live guardians are added, live ones it no longer names are
        removed (each change traced and told, by blueprints.lifecycle.guardians)."""
        if not wards:
            return
        live: dict[str, set[str]] = {pid: set() for pid in wards}
        for child_id, guardian_id in db.session.execute(
            select(Guardianship.patient_id, Guardianship.guardian_patient_id).where(
                Guardianship.patient_id.in_(wards), Guardianship.ended_at.is_(None)
            )
        ):
            live[child_id].add(guardian_id)
        for child_id, named in wards.items():
            wanted = {known[nir] for nir in named}
            if wanted == live[child_id]:
                continue
            child = db.session.get(Patient, child_id)
            for guardian_id in wanted - live[child_id]:
                self.report.guardians_added += guardianship.add(child, db.session.get(Patient, guardian_id), "file")
            for guardian_id in live[child_id] - wanted:
                self.report.guardians_removed += guardianship.remove(
                    child, db.session.get(Patient, guardian_id), "file"
                )


def _handle() -> bytes:
    return secrets.token_bytes(32)
