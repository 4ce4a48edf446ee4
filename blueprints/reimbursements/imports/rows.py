"""What a parser hands the job's writer: one plain tuple per statement line (picklable, so a
parse process can send it), in the order of FIELDS, and the helpers both formats share."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FIELDS = (
    "reference",
    "care_date",  # ISO date
    "paid_on",  # ISO date or None
    "nature",
    "act",
    "provider",
    "status",
    "rejection",
    "currency",
    "charged",
    "base",
    "rate",
    "amo",
    "participation",
    "franchise",
    "amc",
    "remainder",
    "unmapped",  # JSON text or None
    "issued_at",  # ISO datetime (UTC, naive) or None
    "claim_ref",  # the claim an EOB answers (its `claim`), to match the AMC's EOB; or None
    "related",  # a complementary insurer's EOB only: JSON list of the claims it names; else None
)
INDEX = {name: i for i, name in enumerate(FIELDS)}
MAX_REFERENCE = 80


class BadValue(ValueError):
    """One field of one line cannot be read; `reason` names which kind."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_PLAIN = re.compile(r"(-?)(\d{1,7})(?:[,.](\d{1,2}))?")


def cents(value) -> int:
    """'25,00', '1 234,56', '-7.5', 25.0 → integer cents, rounded half up; BadValue otherwise."""
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value)
        if plain is not None:  # the common case, in integers: "25,00", "-7,5", "30"
            sign, whole, part = plain.groups()
            amount = int(whole) * 100 + (int(part.ljust(2, "0")) if part else 0)
            return -amount if sign else amount
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = repr(value)
    else:
        text = str(value or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("€", "")
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
    if not text:
        return 0
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise BadValue("bad_amount") from None
    if not amount.is_finite() or abs(amount) >= 10_000_000:
        raise BadValue("bad_amount")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def day(text: str) -> date:
    """'14/03/2026' or '2026-03-14' (a FHIR dateTime's date part) → date; BadValue otherwise."""
    text = (text or "").strip()
    try:
        if len(text) == 10 and text[2] == "/" and text[5] == "/":
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
        if "/" in text:
            d, m, y = text.split("/")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text[:10])
    except ValueError:
        raise BadValue("bad_date") from None


def digest(row: tuple) -> str:
    """The content of a line, without its version stamp: the same line sent again has the
    same digest, a corrected one another."""
    content = row[: INDEX["issued_at"]]
    return hashlib.sha1("\x1f".join(map(str, content)).encode()).hexdigest()


def issued(text: str | None) -> str | None:
    """A FHIR instant or a date → naive UTC ISO text, or None."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()
