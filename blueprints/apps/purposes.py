"""What an app may be allowed to do, in plain words, and the SMART scopes each purpose gives.
The holder allows purposes one by one; a token carries only the scopes of those allowed."""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Purpose:
    key: str
    label: object  # what the app does for you
    data: object  # what it needs for it
    scopes: tuple[str, ...]


PURPOSES = {
    p.key: p
    for p in (
        Purpose(
            "measures_write",
            _l("Add the measures your device takes"),  # Ajouter les mesures de votre appareil
            _l("Writes measures (weight, blood pressure...) into your space"),
            ("patient/Observation.c",),
        ),
        Purpose(
            "measures_read",
            _l("Show and follow your measures"),
            _l("Reads your measures"),
            ("patient/Observation.rs",),
        ),
        Purpose(
            "documents_read",
            _l("Read your documents"),
            _l("Reads your documents, never those you hid"),
            ("patient/DocumentReference.rs", "patient/Binary.r"),
        ),
        Purpose(
            "documents_write",
            _l("Add documents to your space"),
            _l("Adds documents (reports, results...)"),
            ("patient/DocumentReference.c",),
        ),
        Purpose(
            "profile_read",
            _l("Know your health profile"),
            _l("Reads your allergies, treatments, medical history and vaccinations"),
            (
                "patient/AllergyIntolerance.rs",
                "patient/MedicationStatement.rs",
                "patient/Condition.rs",
                "patient/Immunization.rs",
            ),
        ),
        Purpose(
            "appointments_read",
            _l("Remind you of your appointments"),
            _l("Reads your appointments: with whom, when, where and why"),
            ("patient/Appointment.rs",),
        ),
        Purpose(
            "reimbursements_read",
            _l("Follow your health spending"),
            _l("Reads your reimbursements: what you paid, what the Assurance Maladie and your mutuelle paid back"),
            ("patient/ExplanationOfBenefit.rs",),
        ),
        Purpose(
            "history_read",
            _l("Show the history of your space"),
            _l("Reads who accessed your space and when"),
            ("patient/AuditEvent.rs",),
        ),
    )
}
# Given with any connection: who you are (name, date of birth), and what you allowed the app.
ALWAYS = ("patient/Patient.rs", "patient/Consent.rs")
# Not data: the launch context, the identity of the user, and staying connected.
CONTEXT = frozenset({"launch/patient", "openid", "fhirUser", "offline_access"})
DURATIONS = {
    "3m": (_l("3 months"), 91),
    "1y": (_l("1 year"), 365),
    "open": (_l("Until I disconnect it"), None),
}
DEFAULT_DURATION = "1y"


def scopes_for(purpose_keys) -> set[str]:
    scopes = set(ALWAYS)
    for key in purpose_keys:
        if key in PURPOSES:
            scopes.update(PURPOSES[key].scopes)
    return scopes


def granted(requested: str, purpose_keys) -> str:
    """What a token gets: the scopes it asked for that the allowed purposes cover (or the
    context scopes), in the order asked. Never more than asked, never more than allowed."""
    allowed = scopes_for(purpose_keys)
    out = []
    for scope in requested.split():
        if (scope in CONTEXT or scope in allowed) and scope not in out:
            out.append(scope)
    return " ".join(out)


def requested_purposes(requested: str, app_purposes) -> list[str]:
    """The app's purposes the request asks for at least one scope of."""
    asked = set(requested.split())
    return [key for key in app_purposes if key in PURPOSES and asked & set(PURPOSES[key].scopes)]
