"""A rich space for the export tests: documents of every kind (one hidden, one deposited by a
professional's name), measures typed and imported (offsets, devices, contexts), and every
section of the profile, linked rows included. Plain functions: the fixtures are in conftest."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from blueprints.documents import services as documents
from blueprints.documents.models import Document
from blueprints.export import portable
from blueprints.measures import kinds
from blueprints.measures.models import Measure
from blueprints.profile.models import Allergy, Condition, Contact, Disability, ProfileFacts, Treatment, Vaccination
from core.access import viewer_for
from core.db import db
from core.people import Account
from tests.documents.file_samples import make_tiff
from tests.documents.pdf_samples import multipage_pdf
from tests.samples import TEXT, png_bytes

PHOTO = (
    Path(__file__).resolve().parent.parent / "documents" / "fixtures" / "photo-paysage-orientation-6.jpg"
).read_bytes()

FILES = (
    ("compte-rendu.pdf", multipage_pdf(2), "CPT_REND", "Compte rendu d'hospitalisation — cardiologie"),
    ("radio.jpg", PHOTO, "RADIO_SC", "Radio du thorax"),  # drawn at upload, and again when imported
    ("analyse.png", png_bytes((120, 80)), "BIOLOGIE", "Résultats de biologie"),
    ("scan.tif", make_tiff(pages=2), "DOC_ADM", "Scan: attestation/CPAM"),
    ("ordonnance.txt", TEXT, "ORD_SOIN", "Ordonnance"),
    ("ordonnance-2.txt", TEXT + b"Renouveler 3 mois.\n", "ORD_SOIN", "Ordonnance"),  # same title: unique name
)


def holder_viewer(patient_id: str):
    return viewer_for(db.session.scalar(select(Account).where(Account.patient_id == patient_id)))


def seed(app, patient_id: str) -> None:
    """Fill the space through the services where they exist, by rows where the state is one a
    device import or a professional leaves."""
    with app.test_request_context(method="POST"):
        viewer = holder_viewer(patient_id)
        docs = []
        for name, data, category, title in FILES:
            docs += documents.add_documents(
                viewer,
                [documents.Upload(io.BytesIO(data), name)],
                category=category,
                act_date=date(2026, 2, 3),
                title=title,
            )
        docs[1].hidden = True
        docs[0].author_type, docs[0].author_name = "professional", "Dr Hélène Bernard"
        docs[0].author_profession, docs[0].author_rpps, docs[0].note = (
            "medecin",
            "10000000001",
            "À montrer au cardiologue",
        )
        rows = [
            (kinds.KINDS["weight"], 72.4, None, None, "manual", None, 60),
            (kinds.KINDS["blood_pressure"], 128, 82, None, "apple", "Omron Connect", 120),
            (kinds.KINDS["glucose"], 5.4, None, "fasting", "fhir", "Glucomètre", -300),
            (kinds.KINDS["steps"], 8123, None, None, "csv", "Withings", 60),
        ]
        for i, (kind, value, value2, context, source, name, offset) in enumerate(rows * 3):
            db.session.add(
                Measure(
                    patient_id=patient_id,
                    kind=kind.key,
                    taken_at=int(datetime(2026, 1, 5 + i, 7, 30, tzinfo=UTC).timestamp()),
                    utc_offset=offset,
                    value=value + i,
                    value2=value2,
                    context=context,
                    source=source,
                    source_name=name,
                    dedup=kinds.dedup_key(kind, value + i, value2, context),
                )
            )
        treatment = Treatment(
            patient_id=patient_id, name="Bisoprolol", dosage="2,5 mg le matin", since=date(2024, 5, 1)
        )
        db.session.add(treatment)
        db.session.flush()
        db.session.add_all(
            [
                Allergy(patient_id=patient_id, substance="Pénicilline", reaction="Urticaire", severity="severe"),
                Allergy(patient_id=patient_id, substance="Bisoprolol", severity="mild", treatment_id=treatment.id),
                Condition(patient_id=patient_id, kind="medical", label="Hypertension", year=2019),
                Condition(patient_id=patient_id, kind="family", label="Diabète (mère)"),
                Vaccination(patient_id=patient_id, name="Tétanos", on_date=date(2022, 4, 1), lot_number="AB12"),
                Disability(patient_id=patient_id, label="Malentendant", note="Appareillé"),
                Contact(
                    patient_id=patient_id, role="emergency", name="Louis Martin", relation="frère", phone="0601020304"
                ),
                ProfileFacts(
                    patient_id=patient_id,
                    blood_group="A+",
                    tobacco="never",
                    doctor_name="Dr Durand",
                    city="Lyon",
                    directive_document_id=docs[4].id,
                ),
            ]
        )
        db.session.commit()


def snapshot(app, patient_id: str) -> dict:
    """Everything the round trip must keep, field by field, without ids."""
    out = {}
    with app.app_context():
        names = {}
        for model in portable.TABLES:
            found = []
            for row in db.session.scalars(select(model).where(model.patient_id == patient_id)):
                data = portable.dump(model, row)
                data.pop("id")
                for (table, column), points_to in portable.LINKS.items():
                    if table == model.__tablename__ and data.get(column):
                        data[column] = names[(points_to, data[column])]
                found.append(data)
                label = getattr(row, "title", None) or getattr(row, "name", None) or ""
                names[(model.__tablename__, row.id)] = f"{label}/{getattr(row, 'sha256', '')}"
            out[model.__tablename__] = sorted(found, key=repr)
        out["files"] = sorted(
            (d.sha256, d.size) for d in db.session.scalars(select(Document).where(Document.patient_id == patient_id))
        )
    return out
