"""What the reimbursement pages show, read through the gate as plain data: the list by month
(filtered, a page at a time), one act with who paid what, a year's totals, the deductibles
against their caps, the home card, and the link to a document. Totals are SQL sums of the
integer-cent columns: the sum of the lines, to the cent. Lines in a currency other than the
euro (an imported foreign statement) are listed but kept out of the totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, case, extract, func, or_, select

from blueprints.documents import categories
from blueprints.documents.models import Document, fold
from blueprints.reimbursements import rates
from blueprints.reimbursements.display import formatter, nature_labels
from blueprints.reimbursements.models import NATURES, STATUSES, Reimbursement
from core import access
from core.access import Viewer
from core.compiled import Fixed
from core.db import db

PAGE = 50
R = Reimbursement
AMOUNTS = ("charged", "base", "amo", "participation", "franchise", "amc", "remainder")


@dataclass
class Filters:
    nature: str = ""
    provider: str = ""
    status: str = ""
    start: date | None = None
    end: date | None = None
    q: str = ""
    after: str = ""  # cursor: "YYYY-MM-DD|id" of the last line shown

    @classmethod
    def from_args(cls, args) -> Filters:
        def day(name):
            try:
                return date.fromisoformat(args.get(name, "")[:10])
            except ValueError:
                return None

        nature = args.get("nature", "")
        status = args.get("statut", "")
        return cls(
            nature=nature if nature in NATURES else "",
            provider=args.get("professionnel", "")[:200],
            status=status if status in STATUSES else "",
            start=day("du"),
            end=day("au"),
            q=args.get("q", "")[:100].strip(),
            after=args.get("apres", "")[:80],
        )

    def query_args(self) -> dict:
        """The filters as the URL keeps them (without the cursor)."""
        args = {
            "nature": self.nature,
            "professionnel": self.provider,
            "statut": self.status,
            "du": self.start.isoformat() if self.start else "",
            "au": self.end.isoformat() if self.end else "",
            "q": self.q,
        }
        return {k: v for k, v in args.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.query_args())

    def apply(self, stmt):
        if self.nature:
            stmt = stmt.where(R.nature == self.nature)
        if self.provider:
            stmt = stmt.where(R.provider == self.provider)
        if self.status:
            stmt = stmt.where(R.status == self.status)
        if self.start:
            stmt = stmt.where(R.care_date >= self.start)
        if self.end:
            stmt = stmt.where(R.care_date <= self.end)
        for word in fold(self.q).split()[:5]:
            stmt = stmt.where(R.search_text.contains(word, autoescape=True))
        return stmt


@dataclass(slots=True)
class Line:
    """A line as the list shows it: its figures, and their words made once (an object, not a
    dict: templates read attributes, and a dict's keys cost them a failed lookup first)."""

    id: str
    care_date: date
    paid_on: date | None
    nature: str
    provider: str
    status: str
    currency: str
    amo: int
    amc: int
    remainder: int
    revision: int
    title: str
    nature_label: str
    shown_charged: str
    shown_reimbursed: str
    shown_remainder: str


def _line(r, natures: dict[str, str], amount) -> Line:
    nature = natures.get(r.nature, r.nature)
    return Line(
        r.id,
        r.care_date,
        r.paid_on,
        r.nature,
        r.provider,
        r.status,
        r.currency,
        r.amo,
        r.amc,
        r.remainder,
        r.revision,
        r.act or nature,
        nature,
        amount(r.charged, r.currency),
        amount(r.amo + r.amc, r.currency),
        amount(r.remainder, r.currency),
    )


_LIST_COLUMNS = (
    R.id,
    R.care_date,
    R.paid_on,
    R.nature,
    R.act,
    R.provider,
    R.status,
    R.currency,
    R.charged,
    R.amo,
    R.amc,
    R.remainder,
    R.revision,
)


def _sums() -> list:
    """SUM of each amount over the euro lines (built once: these expressions never change)."""
    euro = R.currency == "EUR"
    return [func.coalesce(func.sum(case((euro, getattr(R, a)), else_=0)), 0).label(a) for a in AMOUNTS]


_SUMS = _sums()


def page(viewer: Viewer, filters: Filters) -> dict:
    """One page of lines, newest act first, grouped by month with each month's totals
    (whole months, whatever the page holds): three statements, whatever the number of lines;
    the first page also counts the acts the filters find (said in the page's status region)."""
    stmt = filters.apply(access.scope(viewer, select(*_LIST_COLUMNS)))
    matching = None if filters.after else db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    if filters.after and "|" in filters.after:
        day_text, last_id = filters.after.split("|", 1)
        try:
            last_day = date.fromisoformat(day_text)
        except ValueError:
            last_day = None
        if last_day is not None:
            stmt = stmt.where(or_(R.care_date < last_day, and_(R.care_date == last_day, R.id < last_id)))
    rows = db.session.execute(stmt.order_by(R.care_date.desc(), R.id.desc()).limit(PAGE + 1)).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    months: list[dict] = []
    natures, amount = nature_labels(), formatter()
    if rows:
        first = rows[-1].care_date.replace(day=1)
        last = rows[0].care_date
        y, m = extract("year", R.care_date), extract("month", R.care_date)
        totals_stmt = filters.apply(
            access.scope(viewer, select(y.label("y"), m.label("m"), func.count().label("n"), *_SUMS))
        ).where(R.care_date >= first, R.care_date <= _month_end(last))
        totals = {(int(t.y), int(t.m)): t._asdict() for t in db.session.execute(totals_stmt.group_by(y, m))}
        for r in rows:
            key = (r.care_date.year, r.care_date.month)
            if not months or months[-1]["key"] != key:
                found = totals.get(key, {})
                shown = amount(found["remainder"]) if found else ""
                months.append({"key": key, "month": date(*key, 1), "totals": found, "left": shown, "lines": []})
            months[-1]["lines"].append(_line(r, natures, amount))
    cursor = f"{rows[-1].care_date.isoformat()}|{rows[-1].id}" if more else ""
    return {"months": months, "cursor": cursor, "continued": _continued(filters), "found": matching}


def _continued(filters: Filters) -> tuple | None:
    """The month of the last line of the previous page: its heading is not repeated."""
    try:
        d = date.fromisoformat(filters.after.split("|", 1)[0]) if filters.after else None
    except ValueError:
        return None
    return (d.year, d.month) if d else None


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def providers(viewer: Viewer) -> list[str]:
    """Every professional or establishment named on the holder's lines (the filter's choices)."""
    return list(db.session.scalars(_providers_statement(viewer.kind), {"patient_id": viewer.patient_id}))


@lru_cache(maxsize=8)
def _providers_statement(kind: str):
    """Built once per kind of viewer (the gate applied for a viewer of this kind whose patient
    is the :patient_id parameter), as the home's statements are."""
    gate = access.kind_gate(kind)
    stmt = access.scope(gate, select(R.provider)).where(R.provider != "").group_by(R.provider)
    return stmt.order_by(R.provider).limit(500)


def get(viewer: Viewer, reimbursement_id: str) -> Reimbursement:
    return access.get_or_404(viewer, Reimbursement, reimbursement_id)


def detail(viewer: Viewer, r: Reimbursement) -> dict:
    """One act: every amount, the figures in force that day, the linked document and the
    documents of the same days that could be linked."""
    doc = None
    if r.document_id:
        found = db.session.execute(
            access.scope(viewer, select(Document.id, Document.title, Document.category, Document.act_date)).where(
                Document.id == r.document_id
            )
        ).first()
        doc = _doc(found) if found else None
    window = access.scope(viewer, select(Document.id, Document.title, Document.category, Document.act_date)).where(
        Document.act_date >= r.care_date - timedelta(days=7), Document.act_date <= r.care_date + timedelta(days=7)
    )
    candidates = [_doc(d) for d in db.session.execute(window.order_by(Document.act_date.desc()).limit(20))]
    return {
        "line": r,
        "rates": rates.on(r.care_date),
        "document": doc,
        "candidates": [c for c in candidates if not doc or c["id"] != doc["id"]],
        "insurer_total": r.amo + r.amc,
    }


def _doc(d) -> dict:
    return {"id": d.id, "title": d.title, "category": categories.label(d.category), "act_date": d.act_date}


def link(viewer: Viewer, r: Reimbursement, document_id: str | None) -> None:
    """Link the act to one of the holder's documents, or unlink it (None)."""
    if document_id:
        access.get_or_404(viewer, Document, document_id)
    r.document_id = document_id or None


def for_document(viewer: Viewer, document_id: str) -> list[Line]:
    """The reimbursement lines linked to a document (its page shows them)."""
    rows = _for_document_statement(viewer.kind).all({"patient_id": viewer.patient_id, "document_id": document_id})
    natures, amount = nature_labels(), formatter()
    return [_line(r, natures, amount) for r in rows]


@lru_cache(maxsize=8)
def _for_document_statement(kind: str) -> Fixed:
    """Built once per kind of viewer, like _providers_statement, and run through compiled.Fixed: every
    view of a document asks (docs/performance.md, 50)."""
    gate = access.kind_gate(kind)
    stmt = access.scope(gate, select(*_LIST_COLUMNS)).where(R.document_id == bindparam("document_id"))
    return Fixed(stmt.order_by(R.care_date.desc()).limit(20))


def years(viewer: Viewer) -> list[int]:
    y = extract("year", R.care_date)
    return [int(v) for v in db.session.scalars(access.scope(viewer, select(y)).group_by(y).order_by(y.desc()))]


def year_view(viewer: Viewer, year: int) -> dict:
    """A calendar year: totals per nature and overall, and the out-of-pocket remainder of each
    month (the trend the chart draws)."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    within = (R.care_date >= start, R.care_date <= end)
    natures = db.session.execute(
        access.scope(viewer, select(R.nature, func.count().label("n"), *_SUMS))
        .where(*within)
        .group_by(R.nature)
        .order_by(R.nature)
    ).all()
    by_nature = sorted((n._asdict() for n in natures), key=lambda n: -n["remainder"])
    total = {a: sum(n[a] for n in by_nature) for a in AMOUNTS} | {"n": sum(n["n"] for n in by_nature)}
    m = extract("month", R.care_date)
    monthly = dict(
        db.session.execute(
            access.scope(viewer, select(m, func.coalesce(func.sum(R.remainder), 0)))
            .where(*within, R.currency == "EUR")
            .group_by(m)
        ).all()
    )
    months = [{"month": date(year, i, 1), "remainder": int(monthly.get(i, 0) or 0)} for i in range(1, 13)]
    return {"year": year, "natures": by_nature, "total": total, "months": months, "caps": caps(viewer, year)}


def caps(viewer: Viewer, year: int) -> dict:
    """This year's participations forfaitaires and franchises against their annual caps."""
    params = {"patient_id": viewer.patient_id, "start": date(year, 1, 1), "end": date(year, 12, 31)}
    row = db.session.execute(_caps_statement(viewer.kind), params).one()
    limits = rates.year_caps(year)
    out = {}
    for key in ("participation", "franchise"):
        used, cap = int(row._mapping[key]), limits[key]
        out[key] = {"used": used, "cap": cap, "left": max(0, cap - used), "percent": min(100, round(100 * used / cap))}
    return out


@lru_cache(maxsize=8)
def _caps_statement(kind: str):
    """Built once per kind of viewer, like _providers_statement."""
    gate = access.kind_gate(kind)
    return access.scope(
        gate,
        select(
            func.coalesce(func.sum(R.participation), 0).label("participation"),
            func.coalesce(func.sum(R.franchise), 0).label("franchise"),
        ),
    ).where(R.care_date >= bindparam("start"), R.care_date <= bindparam("end"), R.currency == "EUR")


def card_columns(gate: Viewer, year_start) -> list:
    """The home card's figures as scalar subqueries, for the home's one statement of figures
    (blueprints/dashboard): the last payment received, and this year's remainder."""
    last = (
        access.scope(gate, select(R.id))
        .where(R.status == "paid", R.paid_on.is_not(None))
        .order_by(R.paid_on.desc(), R.id.desc())
        .limit(1)
        .scalar_subquery()
    )

    def of_last(column, name: str):
        return select(column).where(R.id == last).scalar_subquery().label(name)

    remainder = (
        access.scope(gate, select(func.coalesce(func.sum(R.remainder), 0)))
        .where(R.care_date >= year_start, R.currency == "EUR")
        .scalar_subquery()
        .label("remb_remainder")
    )
    return [
        remainder,
        of_last(R.paid_on, "remb_paid_on"),
        of_last(R.amo + R.amc, "remb_paid"),
        of_last(R.currency, "remb_currency"),
        of_last(R.provider, "remb_provider"),
    ]


def card(figures: dict, year: int) -> dict | None:
    """The home card from those figures; None when the holder has no line yet."""
    if figures["remb_paid_on"] is None and not figures["remb_remainder"]:
        return None
    last = None
    if figures["remb_paid_on"] is not None:
        last = {
            "paid_on": figures["remb_paid_on"],
            "amount": figures["remb_paid"],
            "currency": figures["remb_currency"],
            "provider": figures["remb_provider"],
        }
    return {"last": last, "year": year, "remainder": int(figures["remb_remainder"] or 0)}


def period_lines(viewer: Viewer, start: date, end: date) -> list[Reimbursement]:
    """Every line of a period, oldest first (the relevé and the CSV export)."""
    stmt = access.scope(viewer, select(Reimbursement)).where(R.care_date >= start, R.care_date <= end)
    return list(db.session.scalars(stmt.order_by(R.care_date, R.id)))


def totals(lines: list[Reimbursement]) -> dict:
    """Sums of the euro lines, to the cent."""
    euro = [r for r in lines if r.currency == "EUR"]
    return {a: sum(getattr(r, a) for r in euro) for a in AMOUNTS} | {"n": len(lines), "foreign": len(lines) - len(euro)}
