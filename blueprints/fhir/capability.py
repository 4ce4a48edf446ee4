"""The CapabilityStatement: exactly what this server does, and where its OAuth endpoints are."""

from __future__ import annotations

from flask import url_for

from blueprints.fhir.services import SPECS

SEARCH_PARAMS = {
    "date": (
        "date",
        "When the measure was taken, the document added, the appointment starts, the care was given"
        " (ExplanationOfBenefit: its day), the trace written",
    ),
    "code": ("token", "LOINC code (aliases of the vital signs profile included)"),
    "category": ("token", "Observation category, or document category"),
    "_lastUpdated": ("date", "When the resource last changed"),
    "status": ("token", "Appointment status: proposed, pending, booked or cancelled"),
}
CREATABLE = ("Observation", "DocumentReference")
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def _resource(rtype: str, params) -> dict:
    interactions = [{"code": "read"}]
    if params is not None:
        interactions.append({"code": "search-type"})
    if rtype in CREATABLE:
        interactions.append({"code": "create"})
    entry = {"type": rtype, "interaction": interactions}
    if params:
        entry["searchParam"] = [
            {"name": name, "type": SEARCH_PARAMS[name][0], "documentation": SEARCH_PARAMS[name][1]}
            for name in sorted(params)
        ]
    return entry


def statement(published: str) -> dict:
    resources = [_resource("Patient", frozenset())]
    resources += [_resource(rtype, spec.params) for rtype, spec in SPECS.items()]
    resources += [_resource("Consent", frozenset()), _resource("Binary", None)]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published,
        "publisher": "Carnet",
        "kind": "instance",
        "software": {"name": "Carnet"},
        "implementation": {"description": "Carnet FHIR API", "url": url_for("fhir.metadata", _external=True)[:-9]},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Searches accept _count (at most 200), _sort=-date or date, and page through the "
                "links of the Bundle. ExplanationOfBenefit follows the CARIN Blue Button shape; the "
                "complementary insurer's share and the rate are under urn:carnet:adjudication.",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [
                                {"url": "authorize", "valueUri": url_for("apps.authorize", _external=True)},
                                {"url": "token", "valueUri": url_for("apps.token", _external=True)},
                                {"url": "revoke", "valueUri": url_for("apps.revoke", _external=True)},
                                {"url": "introspect", "valueUri": url_for("apps.introspect", _external=True)},
                            ],
                        }
                    ],
                },
                "resource": resources,
            }
        ],
    }
