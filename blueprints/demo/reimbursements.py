"""Three years of reimbursements for the demo space, as a health insurer's statement would
list them: the GP and the pharmacy after each visit, lab tests, the dentist, the optician,
one hospital stay, a rejected act and a regularisation. Deterministic (seeded); amounts
follow the tariffs and deductibles of their date (blueprints/reimbursements/rates.json)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import insert, select

from blueprints.documents.models import Document
from blueprints.reimbursements import rates
from blueprints.reimbursements.imports.rows import digest
from blueprints.reimbursements.models import Reimbursement, search_text
from core import clock
from core.db import db, new_id

GP = "Dr Hélène Bernard"
PHARMACY = "Pharmacie des Lilas"
LAB = "Laboratoire de biologie médicale des Lilas"


def _line(rng, day: date, nature: str, act: str, provider: str, charged: int, base: int, rate: int, **kw) -> dict:
    """One paid line: AMO = base × rate − deductibles, the mutuelle pays the rest of the
    base (and part of any excess), the deductibles stay with the holder."""
    pf, fr = kw.get("participation", 0), kw.get("franchise", 0)
    amo = round(base * rate / 100) - pf - fr
    amc = kw.get("amc", base - round(base * rate / 100) + min(kw.get("excess_paid", 0), charged - base))
    return {
        "care_date": day,
        "paid_on": kw.get("paid_on", day + timedelta(days=rng.randint(2, 6))),
        "nature": nature,
        "act": act,
        "provider": provider,
        "status": kw.get("status", "paid"),
        "rejection": kw.get("rejection"),
        "charged": charged,
        "base": base,
        "rate": rate,
        "amo": amo,
        "participation": pf,
        "franchise": fr,
        "amc": amc,
        "remainder": charged - amo - amc,
    }


def lines(today: date, years: int = 3, visits_per_year: int = 6, seed: int = 2026) -> list[dict]:
    """The statement lines of `years` years up to `today`, oldest first."""
    rng = random.Random(seed)
    out: list[dict] = []
    start = today - timedelta(days=365 * years)
    gap = 365 / visits_per_year
    day = start + timedelta(days=rng.randint(3, 20))
    while day < today - timedelta(days=1):
        r = rates.on(day)
        g = 3000 if day >= date(2024, 12, 22) else 2650  # the GP consultation (G)
        out.append(
            _line(
                rng,
                day,
                "consultation",
                "Consultation de médecine générale",
                GP,
                g,
                g,
                70,
                participation=r["participation"],
            )
        )
        boxes = rng.randint(1, 4)
        base = rng.randint(600, 2400)
        out.append(
            _line(
                rng,
                day + timedelta(days=1),
                "pharmacie",
                f"Médicaments ({boxes} boîte{'s' if boxes > 1 else ''})",
                PHARMACY,
                base,
                base,
                65,
                franchise=boxes * r["franchise_box"],
            )
        )
        if rng.random() < 0.3:
            lab = rng.choice((2592, 3186, 4470))
            out.append(
                _line(
                    rng,
                    day + timedelta(days=3),
                    "biologie",
                    "Analyses de sang",
                    LAB,
                    lab,
                    lab,
                    60,
                    participation=r["participation"],
                )
            )
        day += timedelta(days=max(1, round(gap * rng.uniform(0.7, 1.3))))
    for year in range(start.year, today.year + 1):
        dental = date(year, 2, 11) + timedelta(days=rng.randint(0, 200))
        if start < dental < today:
            out.append(
                _line(rng, dental, "dentaire", "Détartrage", "Dr Paul Moreau, chirurgien-dentiste", 4338, 4338, 70)
            )
    optician = today - timedelta(days=400)
    out.append(
        _line(rng, optician, "optique", "Lunettes (monture et verres)", "Optique Voltaire", 32000, 9, 60, amc=25000)
    )
    stay = today - timedelta(days=650)
    out.append(
        _line(
            rng,
            stay,
            "hospitalisation",
            "Séjour de 3 jours (appendicectomie)",
            "Hôpital Saint-Antoine (AP-HP)",
            285000,
            285000,
            80,
            amc=57000 - 6000,
            paid_on=stay + timedelta(days=21),
        )
    )
    physio = today - timedelta(days=200)
    rejected = _line(
        rng, physio, "auxiliaires", "Séance de kinésithérapie", "Cabinet de kinésithérapie Oberkampf", 1900, 1900, 60
    )
    rejected.update(
        status="rejected",
        amo=0,
        amc=0,
        remainder=1900,
        paid_on=None,
        rejection="Prescription médicale manquante ou illisible",
    )
    out.append(rejected)
    regul_of = next(
        x for x in reversed(out) if x["nature"] == "pharmacie" and x["care_date"] < today - timedelta(days=90)
    )
    out.append(
        {
            **{k: 0 for k in ("charged", "base", "participation", "franchise", "amc")},
            "care_date": regul_of["care_date"],
            "paid_on": regul_of["paid_on"] + timedelta(days=30),
            "nature": "pharmacie",
            "act": "Régularisation (taux corrigé)",
            "provider": PHARMACY,
            "status": "paid",
            "rejection": None,
            "rate": 0,
            "amo": 412,
            "remainder": -412,
        }
    )
    out.sort(key=lambda x: x["care_date"])
    recent = [x for x in out if x["nature"] in ("consultation", "pharmacie") and x["status"] == "paid"]
    if recent and recent[-1]["care_date"] >= today - timedelta(days=30):
        recent[-1].update(status="pending", paid_on=None)  # the newest act is still being processed
    return out


def rows_for(patient_id: str, items: list[dict], source: str = "demo") -> list[dict]:
    now = clock.utcnow()
    out = []
    for n, x in enumerate(items):
        ref = f"DEMO-{x['care_date'].strftime('%Y%m%d')}-{n:05d}"
        row = {**x, "reference": ref, "currency": "EUR", "unmapped": None}
        content = tuple(str(row[k]) for k in sorted(row))
        out.append(
            row
            | {
                "id": new_id(),
                "patient_id": patient_id,
                "source": source,
                "digest": digest(content),
                "revision": 1,
                "search_text": search_text(x["act"], x["provider"], ref),
                "created_at": now,
                "updated_at": now,
            }
        )
    return out


def add_demo_reimbursements(patient_id: str) -> int:
    """Insert the demo lines, with the acts of the holder's prescription and lab report
    (linked to those documents), as an insurer would list them."""
    rng = random.Random(7)
    today = clock.paris_today()
    items = lines(today)
    docs = db.session.execute(
        select(Document.id, Document.act_date, Document.category).where(Document.patient_id == patient_id)
    ).all()
    linked: list[tuple[dict, str]] = []
    for doc_id, day, category in docs:
        if day > today or category not in ("ORD_SOIN", "BIOLOGIE"):
            continue
        r = rates.on(day)
        if category == "ORD_SOIN":
            visit = _line(
                rng,
                day,
                "consultation",
                "Consultation de médecine générale",
                GP,
                3000,
                3000,
                70,
                participation=r["participation"],
            )
            items.append(
                _line(
                    rng,
                    day + timedelta(days=1),
                    "pharmacie",
                    "Médicaments (2 boîtes)",
                    PHARMACY,
                    1262,
                    1262,
                    65,
                    franchise=2 * r["franchise_box"],
                )
            )
        else:
            visit = _line(
                rng,
                day,
                "biologie",
                "Analyses de sang (glycémie, HbA1c)",
                LAB,
                2592,
                2592,
                60,
                participation=r["participation"],
            )
        items.append(visit)
        linked.append((visit, doc_id))
    items.sort(key=lambda x: x["care_date"])
    rows = rows_for(patient_id, items)
    for row, item in zip(rows, items):
        row["document_id"] = next((doc_id for visit, doc_id in linked if visit is item), None)
    db.session.execute(insert(Reimbursement), rows)
    return len(rows)
