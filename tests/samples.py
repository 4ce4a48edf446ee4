"""Small files in the real formats: images, PDF, text; Apple Health exports, FHIR bundles."""

from __future__ import annotations

import io
import json
import zipfile
from xml.sax.saxutils import escape

from PIL import ExifTags, Image


def png_bytes(size=(40, 30), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 280), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()


TEXT = "Ordonnance du Dr Martin\nParacétamol 1 g, 3 fois par jour.\n".encode()


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
    unit = escape(unit)
    attrs = (
        f'type="HKQuantityTypeIdentifier{type_}" sourceName="{source}" sourceVersion="10.1" unit="{unit}" '
        f'creationDate="{start}" startDate="{start}" endDate="{start}" value="{value}"'
    )
    return f"<Record {attrs}>{inner}</Record>" if inner else f"<Record {attrs}/>"


def pressure(high, low, start: str, source: str = "Omron Connect") -> str:
    return (
        f'<Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="{source}" '
        f'startDate="{start}" endDate="{start}">'
        + record("BloodPressureSystolic", high, "mmHg", start, source)
        + record("BloodPressureDiastolic", low, "mmHg", start, source)
        + "</Correlation>"
    )


def apple_xml(*records: str, doctype: str = DTD) -> bytes:
    body = "\n".join(records)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}<HealthData locale="fr_FR">\n'
        f'<ExportDate value="2026-11-28 09:00:00 +0100"/>\n'
        f'<Me HKCharacteristicTypeIdentifierDateOfBirth="1987-03-14"/>\n{body}\n</HealthData>\n'
    ).encode()


def apple_zip(xml: bytes, name: str = "apple_health_export/export.xml") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("apple_health_export/export_cda.xml", "<ClinicalDocument/>")
        z.writestr(name, xml)
    return out.getvalue()


def observation(code: str, value=None, unit=None, when="2026-03-01T08:30:00+01:00", components=None, **extra) -> dict:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": when,
        **extra,
    }
    if value is not None:
        obs["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    if components:
        obs["component"] = [
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": c}]},
                "valueQuantity": {"value": v, "unit": "mmHg", "code": "mm[Hg]"},
            }
            for c, v in components
        ]
    return obs


def bundle(*observations: dict) -> bytes:
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{i}", "resource": o} for i, o in enumerate(observations)],
        }
    ).encode()
