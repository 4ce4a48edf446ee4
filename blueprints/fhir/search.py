"""Search parameters shared by every resource type: `date` and `_lastUpdated` with their
prefixes, `code`, `category`, `status`, `_count`, `_sort` and the paging cursor. Anything else is refused
by name: an app must not believe a filter was applied when it was not."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from blueprints.fhir.outcome import Invalid
from core.clock import PARIS
from core.i18n import lazy_gettext as _l

DEFAULT_COUNT, MAX_COUNT = 50, 200
PREFIXES = ("eq", "lt", "le", "gt", "ge", "sa", "eb")
COMMON = {"_count", "_sort", "_cursor", "_format", "patient", "subject"}
_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass
class Query:
    """A search, parsed: bounds are aware datetimes, [lower, upper)."""

    date: tuple = (None, None)
    updated: tuple = (None, None)
    codes: list = field(default_factory=list)  # (system or None, code)
    categories: list = field(default_factory=list)
    statuses: list = field(default_factory=list)  # `status` codes, where the type has one
    count: int = DEFAULT_COUNT
    newest_first: bool = True
    cursor: tuple | None = None  # (sort value as text, id) of the last row of the page before


def _range(value: str) -> tuple[datetime, datetime]:
    """The instant range a FHIR date of any precision covers (local Paris when no zone)."""
    m = _DATE.match(value)
    if not m:
        raise Invalid(_l("This date is not a FHIR date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+01:00)."))
    y, mo, d, h, mi, s, tz = m.groups()
    zone = PARIS if not tz else UTC if tz == "Z" else datetime.strptime(tz.replace(":", ""), "%z").tzinfo
    try:
        start = datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(s or 0), tzinfo=zone)
    except ValueError:
        raise Invalid(_l("This date does not exist.")) from None
    if h is not None:
        end = start + timedelta(seconds=1 if s is not None else 60)
    elif d is not None:
        end = datetime(start.year, start.month, start.day, tzinfo=zone) + timedelta(days=1)
    elif mo is not None:
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=zone)
    else:
        end = datetime(start.year + 1, 1, 1, tzinfo=zone)
    return start, end


def _bounds(values: list[str]) -> tuple:
    lower = upper = None
    for raw in values:
        prefix, value = (raw[:2], raw[2:]) if raw[:2] in PREFIXES else ("eq", raw)
        start, end = _range(value)
        lo, hi = {
            "eq": (start, end),
            "ge": (start, None),
            "gt": (end, None),
            "sa": (end, None),
            "le": (None, end),
            "lt": (None, start),
            "eb": (None, start),
        }[prefix]
        if lo is not None:
            lower = lo if lower is None else max(lower, lo)
        if hi is not None:
            upper = hi if upper is None else min(upper, hi)
    return lower, upper


def _tokens(values: list[str]) -> list[tuple[str | None, str]]:
    out = []
    for raw in values:
        for token in raw.split(","):
            system, bar, code = token.rpartition("|")
            if code:
                out.append((system if bar and system else None, code))
    return out


def encode_cursor(sort_value, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{sort_value}|{row_id}".encode()).decode().rstrip("=")


def _decode_cursor(raw: str) -> tuple[str, str]:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        sort_value, _, row_id = text.partition("|")
        if not row_id:
            raise ValueError
        return sort_value, row_id
    except ValueError:
        raise Invalid(_l("This page link is not valid: start the search again."), expression="_cursor") from None


def parse(args, allowed: set[str]) -> Query:
    """The request's parameters, for a resource type that supports `allowed` (plus COMMON)."""
    unknown = sorted(set(args) - allowed - COMMON)
    if unknown:
        raise Invalid(
            _l("Search parameter not supported here: %(name)s.", name=unknown[0]),
            code="not-supported",
            expression=unknown[0],
        )
    q = Query()
    if args.getlist("date"):
        q.date = _bounds(args.getlist("date"))
    if args.getlist("_lastUpdated"):
        q.updated = _bounds(args.getlist("_lastUpdated"))
    q.codes = _tokens(args.getlist("code"))
    q.categories = [code for _system, code in _tokens(args.getlist("category"))]
    q.statuses = [code for _system, code in _tokens(args.getlist("status"))]
    raw_count = args.get("_count")
    if raw_count is not None:
        if not raw_count.isdigit():
            raise Invalid(_l("_count must be a whole number."), expression="_count")
        q.count = max(1, min(int(raw_count), MAX_COUNT))
    sort = args.get("_sort", "-date")
    if sort not in ("-date", "date"):
        raise Invalid(_l("Only _sort=-date and _sort=date are supported."), code="not-supported", expression="_sort")
    q.newest_first = sort == "-date"
    if args.get("_cursor"):
        q.cursor = _decode_cursor(args["_cursor"])
    return q


def unsupported(name: str):
    return _l("Search parameter not supported here: %(name)s.", name=name)


def bad_cursor():
    return _l("This page link is not valid: start the search again.")
