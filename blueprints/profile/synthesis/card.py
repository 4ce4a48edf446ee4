"""What the holder may put on the emergency card, and the choice remembered in profile_facts.

The name and the date of birth are always on it: a card without them helps no one.
"""

from __future__ import annotations

from core.i18n import lazy_gettext as _l

ITEMS = {
    "blood": _l("Blood group"),  # Groupe sanguin
    "allergies": _l("Allergies"),  # Allergies
    "treatments": _l("Current treatments"),  # Traitements en cours
    "conditions": _l("Medical and surgical history"),  # Antécédents médicaux et chirurgicaux
    "disabilities": _l("Disabilities"),  # Handicaps
    "contacts": _l("People to call"),  # Personnes à prévenir
    "doctor": _l("Regular doctor (médecin traitant)"),  # Médecin traitant
    "donation": _l("Organ donation"),  # Don d'organes
    "directives": _l("Advance directives"),  # Directives anticipées
}
DEFAULT = ("blood", "allergies", "treatments", "contacts", "doctor")
# Rows of a list shown on the card before "and N more": the card has one page, folded in two.
MOST = 5


def parse(stored: str | None) -> list[str]:
    """The stored choice (codes, comma-separated), known codes only, in the card's order;
    the default when nothing was chosen yet."""
    if stored is None:
        return list(DEFAULT)
    wanted = set(stored.split(","))
    return [code for code in ITEMS if code in wanted]


def store(codes: list[str]) -> str:
    return ",".join(code for code in ITEMS if code in set(codes))


def choices() -> list[tuple[str, str]]:
    return [(code, str(label)) for code, label in ITEMS.items()]
