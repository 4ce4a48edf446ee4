"""Coded values of the profile, stored as codes and shown translated.

Labels are English msgids; the French wording sits in the comment beside each.
"""

from __future__ import annotations

from wtforms import SelectChoice

from core import forms
from core.i18n import lazy_gettext as _l

CONDITION_KINDS = {
    "medical": _l("Medical history"),  # Antécédent médical
    "surgical": _l("Surgery"),  # Antécédent chirurgical
    "family": _l("Family history"),  # Antécédent familial
    "hospitalisation": _l("Hospital stay"),  # Hospitalisation
}
SEVERITIES = {
    "severe": _l("Severe"),  # Grave
    "moderate": _l("Moderate"),  # Modérée
    "mild": _l("Mild"),  # Légère
    "unknown": _l("Severity not known"),  # Gravité inconnue
}
BLOOD_GROUPS = {
    "A+": "A+",
    "A-": "A−",
    "B+": "B+",
    "B-": "B−",
    "AB+": "AB+",
    "AB-": "AB−",
    "O+": "O+",
    "O-": "O−",
    "unknown": _l("I do not know"),  # Je ne sais pas
}
TOBACCO = {
    "never": _l("Never smoked"),  # Jamais fumé
    "former": _l("Former smoker"),  # Ancien fumeur
    "current": _l("Smoker"),  # Fumeur
}
ALCOHOL = {
    "none": _l("No alcohol"),  # Pas d'alcool
    "occasional": _l("Occasionally"),  # Occasionnellement
    "regular": _l("Regularly"),  # Régulièrement
}
ACTIVITY = {
    "low": _l("Little or no physical activity"),  # Peu ou pas d'activité physique
    "moderate": _l("Moderate physical activity"),  # Activité physique modérée
    "high": _l("Intense physical activity"),  # Activité physique soutenue
}
DONATION = {
    "yes": _l("I agree to donate my organs"),  # J'accepte de donner mes organes
    "no": _l("I refuse to donate my organs"),  # Je refuse de donner mes organes
    "undecided": _l("I have not decided yet"),  # Je n'ai pas encore décidé
}
CONTACT_ROLES = {
    "emergency": _l("Emergency contact"),  # Personne à prévenir en cas d'urgence
    "trusted": _l("Trusted person"),  # Personne de confiance
    "caregiver": _l("Caregiver"),  # Proche aidant
}
SEXES = {
    "F": _l("Female"),  # Féminin
    "M": _l("Male"),  # Masculin
    "I": _l("Undetermined"),  # Indéterminé
}


def label(table: dict, code: str | None) -> str:
    if not code:
        return ""
    value = table.get(code)
    return str(value) if value is not None else code


def options(table: dict, blank: str | None = None) -> list[SelectChoice]:
    """A coded field's choices, translated, after a blank one when the field may stay empty."""
    first = [("", blank)] if blank is not None else []
    return forms.options(first + [(code, str(text)) for code, text in table.items()])
