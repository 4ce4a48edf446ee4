"""CSV the way French spreadsheets open it: UTF-8 with a BOM, ';' between columns, and no
cell that a spreadsheet would run as a formula (CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """Text as a spreadsheet shows it, never as a formula it would run."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def stream(header: list[str], batches: Iterable[list[list]], safe: Iterable[int] = ()) -> Iterator[str]:
    """One text chunk for the header (with the BOM), then one per batch of rows.

    `safe` lists columns written as they are (numbers such as "-1,5" that must stay numbers)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    safe = set(safe)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([cell(v) for v in header])
    yield "\ufeff" + flush()
    for rows in batches:
        for row in rows:
            writer.writerow([("" if v is None else str(v)) if i in safe else cell(v) for i, v in enumerate(row)])
        if rows:
            yield flush()
