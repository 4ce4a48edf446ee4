"""The twelve document categories of Mon Espace Santé, in their official order.

Labels are English msgids; the official French label sits in the comment beside each.
"""

from __future__ import annotations

from core.i18n import lazy_gettext as _l

CATEGORIES = {
    "SYNTHESE": _l("My health in summary"),  # Ma santé en résumé
    "ORD_SOIN": _l("Prescriptions and care"),  # Ordonnances et soins
    "RADIO_SC": _l("X-ray, ultrasound, CT, MRI"),  # Radio, écho, scanner, IRM
    "BIOLOGIE": _l("Laboratory results"),  # Résultats de biologie
    "CPT_REND": _l("Medical reports"),  # Comptes rendus
    "DEPISTAG": _l("Prevention and screening"),  # Prévention et dépistages
    "CERT_MED": _l("Medical certificates"),  # Certificats médicaux
    "DOC_ADM": _l("Administrative documents"),  # Pièces administratives
    "DIR_ANT": _l("Advance directives"),  # Directives anticipées
    "SYNTH_PML": _l("Medical summary"),  # Synthèse médicale
    "QUEST_SANTE": _l("Health questionnaire"),  # Questionnaire santé
    "AUTR_DOC": _l("Other documents"),  # Autres
}
DEFAULT_CATEGORY = "ORD_SOIN"

AUTHOR_TYPES = ("holder", "professional", "establishment", "app")

# Where a document came from; stored as a code, shown translated.
SOURCES = {
    "upload": _l("Added by you"),  # Ajouté par vous
    "demo": _l("Demonstration document"),  # Document de démonstration
    "professional": _l("Deposited by a professional"),  # Déposé par un professionnel
    "app": _l("Sent by an app"),  # Envoyé par une application
    "message": _l("Saved from a message"),  # Enregistré depuis un message
    "summary": _l("Made by Carnet from your health profile"),  # Établi par Carnet à partir de votre profil santé
    "receipt": _l("Consent receipt made by Carnet"),  # Reçu de consentement établi par Carnet
}


def label(code: str) -> str:
    value = CATEGORIES.get(code)
    return str(value) if value is not None else code


def choices() -> list[tuple[str, str]]:
    return [(code, str(text)) for code, text in CATEGORIES.items()]


def source_label(code: str) -> str:
    value = SOURCES.get(code)
    return str(value) if value is not None else code
