"""The French statement file ("relevé de remboursements"): CSV, ';' between columns, decimal
comma, dates JJ/MM/AAAA, one line per act with the insurer's reference. Its columns are
documented in docs/reimbursements.md and on the import page (COLUMNS below).

A line that cannot be read is rejected with its reason and line number; the rest goes in."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable

from blueprints.measures.imports.importers.common import ChunkReader, Collector, Refused
from blueprints.reimbursements.imports.rows import MAX_REFERENCE, BadValue, cents, day
from core.identifiers import clean_nir

MAX_BYTES = 200 * 1024 * 1024
REQUIRED = ("reference", "date_soins", "nature", "montant_paye", "montant_amo")
COLUMNS = (
    "reference",
    "date_soins",
    "date_paiement",
    "nature",
    "acte",
    "professionnel",
    "montant_paye",
    "base_remboursement",
    "taux",
    "montant_amo",
    "participation_forfaitaire",
    "franchise",
    "montant_amc",
    "reste_a_charge",
    "statut",
    "motif_rejet",
    "date_traitement",
)
OPTIONAL_BATCH = "nir"  # a batch file names each line's holder
_ALIASES = {
    "date_des_soins": "date_soins",
    "date_de_paiement": "date_paiement",
    "nature_des_soins": "nature",
    "depense": "montant_paye",
    "montant_depense": "montant_paye",
    "base": "base_remboursement",
    "taux_de_remboursement": "taux",
    "amo": "montant_amo",
    "amc": "montant_amc",
    "participation": "participation_forfaitaire",
    "franchises": "franchise",
    "franchise_medicale": "franchise",
    "rac": "reste_a_charge",
    "professionnel_de_sante": "professionnel",
    "etablissement": "professionnel",
    "reference_assureur": "reference",
}
NATURE_WORDS = {
    "consultation": "consultation",
    "consultations": "consultation",
    "pharmacie": "pharmacie",
    "medicaments": "pharmacie",
    "biologie": "biologie",
    "laboratoire": "biologie",
    "radiologie": "radiologie",
    "imagerie": "radiologie",
    "hospitalisation": "hospitalisation",
    "dentaire": "dentaire",
    "optique": "optique",
    "auxiliaires": "auxiliaires",
    "auxiliaires medicaux": "auxiliaires",
    "kinesitherapie": "auxiliaires",
    "soins infirmiers": "auxiliaires",
    "transport": "transport",
    "autre": "autre",
    "autres": "autre",
}
STATUS_WORDS = {
    "": "paid",
    "paye": "paid",
    "rembourse": "paid",
    "regle": "paid",
    "en attente": "pending",
    "attente": "pending",
    "en cours": "pending",
    "rejete": "rejected",
    "refuse": "rejected",
}


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


def column_key(title: str) -> str:
    key = fold(title.lstrip("\ufeff")).replace(" ", "_").replace("-", "_").replace("'", "_")
    return _ALIASES.get(key, key)


def read_header(header: list[str]) -> dict[str, int]:
    """Column key → position; Refused("csv_columns") when a required column is missing."""
    positions: dict[str, int] = {}
    for i, title in enumerate(header):
        positions.setdefault(column_key(title), i)
    if any(c not in positions for c in REQUIRED):
        raise Refused("csv_columns")
    return positions


_READ = (
    "reference",
    "nature",
    "statut",
    "date_soins",
    "date_paiement",
    "taux",
    "montant_paye",
    "base_remboursement",
    "montant_amo",
    "participation_forfaitaire",
    "franchise",
    "montant_amc",
    "reste_a_charge",
    "date_traitement",
    "acte",
    "professionnel",
    "motif_rejet",
)


def _word(table: dict[str, str], text: str) -> str | None:
    return table.get(text.lower()) or table.get(fold(text))


def line_row(cells: list[str], at: dict[str, int] | tuple) -> tuple:
    """One CSV line → a row tuple (rows.FIELDS). Raises BadValue. `at`: read_header()'s
    positions, or positions() of them (read once per file)."""
    cols = at if isinstance(at, tuple) else positions(at)
    n = len(cells)
    (reference, nature, status, care, paid, rate_text, charged, base, amo, pf, fr, amc, rest, issued, act, who, why) = (
        cells[i].strip() if i is not None and i < n else "" for i in cols
    )
    if not reference or len(reference) > MAX_REFERENCE:
        raise BadValue("no_reference")
    nature = _word(NATURE_WORDS, nature)
    if nature is None:
        raise BadValue("bad_nature")
    status = _word(STATUS_WORDS, status)
    if status is None:
        raise BadValue("bad_status")
    care_day = day(care).isoformat()
    paid_day = day(paid).isoformat() if paid else None
    rate_text = rate_text.replace("%", "").strip()
    try:
        rate = round(float(rate_text.replace(",", "."))) if rate_text else 0
    except ValueError:
        raise BadValue("bad_rate") from None
    if not 0 <= rate <= 100:
        raise BadValue("bad_rate")
    charged, base, amo = cents(charged), cents(base), cents(amo)
    pf, fr, amc = cents(pf), cents(fr), cents(amc)
    remainder = cents(rest) if rest else charged - amo - amc
    return (
        reference,
        care_day,
        paid_day,
        nature,
        act[:200],
        who[:200],
        status,
        why[:300] or None,
        "EUR",
        charged,
        base,
        rate,
        amo,
        pf,
        fr,
        amc,
        remainder,
        None,
        day(issued).isoformat() if issued else None,
        None,
        None,
    )


def positions(at: dict[str, int]) -> tuple:
    """Where each column line_row reads sits (None: absent), once per file."""
    return tuple(at.get(name) for name in _READ)


def text_lines(chunks: Iterable[bytes]) -> tuple[ChunkReader, io.TextIOWrapper]:
    """UTF-8 (with or without BOM); a file from an older spreadsheet in Windows-1252 is read
    as such when its start is not UTF-8."""
    raw = ChunkReader(chunks)
    buffered = io.BufferedReader(raw, 1024 * 1024)
    head = buffered.peek(64 * 1024)[: 64 * 1024]
    try:
        head.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        encoding = "utf-8-sig" if exc.start > len(head) - 4 else "cp1252"
    return raw, io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline="")


def same_person(cell: str, nir: str) -> bool:
    """A line's NIR (13 characters, or 15 with its key) is the holder's."""
    value = clean_nir(cell)
    return value == nir or (len(value) == 13 and value == nir[:13])


def parse(chunks: Iterable[bytes], col: Collector, options: dict | None = None) -> None:
    """Every line to the collector; `options["nir"]`: a line naming another holder is refused."""
    nir = (options or {}).get("nir")
    raw, text = text_lines(chunks)
    reader = csv.reader(text, delimiter=";")
    try:
        header = next(reader, None)
        if header is None:
            raise Refused("empty")
        at = read_header(header)
        cols = positions(at)
        for n, cells in enumerate(reader):
            if not any(c.strip() for c in cells):
                continue
            if nir and OPTIONAL_BATCH in at and not same_person(cells[at[OPTIONAL_BATCH]], nir):
                col.reject("other_person", reader.line_num)
                continue
            try:
                col.extend([line_row(cells, cols)])
            except BadValue as exc:
                col.reject(exc.reason, reader.line_num)
            if n % 1000 == 0:
                col.done_bytes = raw.consumed
    except csv.Error:
        raise Refused("csv_columns") from None
    col.done_bytes = raw.consumed
