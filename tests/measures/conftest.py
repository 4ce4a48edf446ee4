"""Measure import fixtures: a logged-in holder whose jobs run when the test says so, and a
runner that imports a file through the service (sample files: tests/samples.py)."""
from __future__ import annotations

import io
import os
import shutil

import pytest

DTD = """<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 14 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate value CDATA #REQUIRED>
<!ELEMENT Me EMPTY>
<!ATTLIST Me HKCharacteristicTypeIdentifierDateOfBirth CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry key CDATA #REQUIRED value CDATA #REQUIRED>
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ATTLIST Correlation type CDATA #REQUIRED sourceName CDATA #REQUIRED startDate CDATA #REQUIRED endDate CDATA #REQUIRED>
]>
"""


def record(type_: str, value, unit: str, start: str, source: str = "Apple Watch de Camille", inner: str = "") -> str:
    from xml.sax.saxutils import escape

    unit = escape(unit)
    attrs = (f'type="HKQuantityTypeIdentifier{type_}" sourceName="{source}" sourceVersion="10.1" unit="{unit}" '
             f'creationDate="{start}" startDate="{start}" endDate="{start}" value="{value}"')
    return f"<Record {attrs}>{inner}</Record>" if inner else f"<Record {attrs}/>"


def pressure(high, low, start: str, source: str = "Omron Connect") -> str:
    return (f'<Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="{source}" '
            f'startDate="{start}" endDate="{start}">'
            + record("BloodPressureSystolic", high, "mmHg", start, source)
            + record("BloodPressureDiastolic", low, "mmHg", start, source) + "</Correlation>")


def apple_xml(*records: str, doctype: str = DTD) -> bytes:
    body = "\n".join(records)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<HealthData locale="fr_FR">\n'
            f'<ExportDate value="2026-11-28 09:00:00 +0100"/>\n'
            f'<Me HKCharacteristicTypeIdentifierDateOfBirth="1987-03-14"/>\n{body}\n</HealthData>\n').encode()


def apple_zip(xml: bytes, name: str = "apple_health_export/export.xml") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        z.writestr(name, xml)
    return out.getvalue()


def observation(code: str, value=None, unit=None, when="2026-03-01T08:30:00+01:00", components=None, **extra) -> dict:
    obs = {"resourceType": "Observation", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": code}]}, "effectiveDateTime": when, **extra}
    if value is not None:
        obs["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    if components:
        obs["component"] = [{"code": {"coding": [{"system": "http://loinc.org", "code": c}]},
                             "valueQuantity": {"value": v, "unit": "mmHg", "code": "mm[Hg]"}} for c, v in components]
    return obs


def bundle(*observations: dict) -> bytes:
    return json.dumps({"resourceType": "Bundle", "type": "collection",
                       "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": o} for i, o in enumerate(observations)]}).encode()


@pytest.fixture
def space(app, make_holder):
    """(viewer, account) in a request context, with an empty blob store, jobs run by hand."""
    from core.access import viewer_for
    from core.db import db

    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)
    account, _ = make_holder()
    with app.test_request_context():
        yield viewer_for(db.session.merge(account)), account


@pytest.fixture
def run_import(app):
    """run_import(viewer, fmt, content, name) → the finished MeasureImport (CSV: confirmed first)."""
    from sqlalchemy import update

    from blueprints.measures.imports import jobs, upload
    from blueprints.measures.models import MeasureImport
    from core.db import db

    def do(viewer, fmt: str, content: bytes, name: str = "export"):
        imp = upload.store_upload(viewer, fmt, name, io.BytesIO(content))
        if imp.status == "preview":
            db.session.execute(update(MeasureImport).where(MeasureImport.id == imp.id).values(status="pending"))
        db.session.commit()
        done = jobs.run(imp.id)
        assert done is not None
        return done
    return do


@pytest.fixture
def importer(app, client, make_holder, login_as):
    """(client logged in as a fresh holder, account); background threads off: tests run jobs."""
    shutil.rmtree(os.path.join(app.instance_path, "blobs"), ignore_errors=True)
    app.extensions.pop("carnet.blobs", None)
    app.config["MEASURES_IMPORT_THREADS"] = False
    account, _ = make_holder()
    login_as(client, account)
    yield client, account
    app.config.pop("MEASURES_IMPORT_THREADS", None)

