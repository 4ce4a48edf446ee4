"""Words and amounts of the reimbursement pages, made once per line in Python: a list page
shows a few hundred amounts, and a template macro or Babel's currency formatter per amount
cost more than the rest of the page."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import format_currency, get_locale

from core.formatting import euro_pattern, euros
from core.i18n import gettext as _


def nature_labels() -> dict[str, str]:
    """The natures of care in the reader's language (built once per page)."""
    return {
        "consultation": _("Consultation"),
        "pharmacie": _("Pharmacy"),
        "biologie": _("Laboratory tests"),
        "radiologie": _("Imaging"),
        "hospitalisation": _("Hospital stay"),
        "dentaire": _("Dental care"),
        "optique": _("Optician"),
        "auxiliaires": _("Paramedical care"),
        "transport": _("Medical transport"),
        "autre": _("Other care"),
    }


def formatter() -> Callable[[int, str], str]:
    """amount(cents, currency) for the page's language, its euro pattern read once."""
    pattern = euro_pattern(str(get_locale() or "fr"))

    def amount(cents: int, currency: str = "EUR") -> str:
        if currency != "EUR":
            return format_currency(cents / 100, currency)
        return euros(cents, pattern)

    return amount
