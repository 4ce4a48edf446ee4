"""The list's amounts are written without Babel per amount: they must read exactly as Babel
writes euros, in French and in English, negatives and thousands included."""

from __future__ import annotations

import flask_babel
from flask_babel import format_currency

from blueprints.reimbursements.display import formatter


def test_amounts_read_as_babel_writes_them(app):
    cents = [0, 5, 99, 100, 3000, 123456, 100000000, -1, -412, -123456]
    with app.test_request_context(method="POST"):
        for lang in ("fr", "en"):
            with flask_babel.force_locale(lang):
                amount = formatter()
                assert [amount(c) for c in cents] == [format_currency(c / 100, "EUR") for c in cents]
                assert amount(25891, "USD") == format_currency(258.91, "USD")
