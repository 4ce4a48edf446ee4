"""Files of other features that these jobs run too (a reimbursement statement): the same
upload, encryption, claim, take-over, parse process and shredding, with their own parser,
writer and traces. A feature registers its formats here when its package is imported."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    parser: str  # "module:function" taking (chunks, collector, options): imported by name in a parse process
    writer: Callable  # the import row → an object with write(rows, done_bytes, rejected, ignored), added, present
    stored: Callable[[str], int]  # rows an import has stored so far (a resumed job's exact count)
    action_started: str  # audit action of the upload
    action_finished: str  # audit action of the job's end
    max_bytes: int
    first_bytes: tuple[bytes, ...] = ()  # what the file must start with (after blanks and a BOM); () anything


OTHER: dict[str, Format] = {}


def register(fmt: str, spec: Format) -> None:
    OTHER[fmt] = spec
