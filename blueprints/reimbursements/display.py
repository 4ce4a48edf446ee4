"""Words and amounts of the reimbursement pages, made once per line in Python: a list page
shows a few hundred amounts, and a template macro or Babel's currency formatter per amount
cost more than the rest of the page."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from babel import Locale
from babel.numbers import format_currency as babel_currency
from flask_babel import format_currency, get_locale

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


@cache
def _euro_pattern(locale: str) -> tuple[str, str, str, str, bool]:
    """(group separator, decimal sign, minus, text around the number, symbol first?) of the
    euro in a locale, from Babel's own data: once per language, never per amount."""
    loc = Locale.parse(locale)
    symbols = loc.number_symbols.get("latn", loc.number_symbols) if hasattr(loc.number_symbols, "get") else {}
    sample = babel_currency(1.0, "EUR", locale=loc)
    group = symbols.get("group", ",")
    decimal = symbols.get("decimal", ".")
    minus = symbols.get("minusSign", "-")
    first = sample.index("€") < sample.index("1")
    gap = (
        sample[sample.index("€") + 1 : sample.index("1")]
        if first
        else sample[sample.rindex("0") + 1 : sample.index("€")]
    )
    return group, decimal, minus, gap, first


def formatter() -> Callable[[int, str], str]:
    """amount(cents, currency) for the page's language, its euro pattern read once."""
    group, decimal, minus, gap, first = _euro_pattern(str(get_locale() or "fr"))

    def amount(cents: int, currency: str = "EUR") -> str:
        if currency != "EUR":
            return format_currency(cents / 100, currency)
        whole, rest = divmod(abs(cents), 100)
        digits = f"{whole:,}".replace(",", group) + f"{decimal}{rest:02d}"
        text = f"€{gap}{digits}" if first else f"{digits}{gap}€"
        return f"{minus}{text}" if cents < 0 else text

    return amount
