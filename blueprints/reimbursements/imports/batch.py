"""A batch statement (many holders' lines, a `nir` column naming each line's holder) split per
holder in flat memory, whatever the file's size: an external sort by NIR.

One pass cuts the file into runs of RUN_LINES lines, each sorted by NIR and written to a
temporary file; the runs are then merged (heapq.merge reads one line of each at a time) and
grouped by NIR. A holder's lines come out in the file's order (the sort and the merge are
stable), so "the last line of a reference wins" holds as in a one-holder file. Memory holds
one run while cutting, then one line per run (at most MAX_OPEN runs are read at once: a longer
file first merges its runs into longer ones); each holder's own lines go to a spooled file
(disk past SPOOL_BYTES) handed to the import job."""

from __future__ import annotations

import csv
import heapq
import io
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from blueprints.reimbursements.imports.statement import OPTIONAL_BATCH, column_key, text_lines
from core.identifiers import clean_nir

RUN_LINES = 10_000
MAX_OPEN = 200  # runs merged at once; more are first merged into longer runs, 200 at a time
SPOOL_BYTES = 1 << 20
BLOCK = 1000  # lines written to a holder's file at a time


class NoNirColumn(ValueError):
    """The file has no `nir` column: it is not a batch."""


def _write_run(folder: Path, n: int, rows: list[list[str]]) -> Path:
    rows.sort(key=itemgetter(0))
    path = folder / f"run-{n:05d}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";", lineterminator="\n").writerows(rows)
    return path


def _merge_runs(folder: Path, runs: list[Path]) -> list[Path]:
    """Fewer, longer runs, until MAX_OPEN of them can be read at once (a file of millions of
    lines); each merge reads one line of each run at a time."""
    while len(runs) > MAX_OPEN:
        longer = []
        for at in range(0, len(runs), MAX_OPEN):
            part, path = runs[at : at + MAX_OPEN], folder / f"merged-{len(runs)}-{at:06d}.csv"
            with ExitStack() as files, path.open("w", encoding="utf-8", newline="") as out:
                readers = [
                    csv.reader(files.enter_context(r.open(encoding="utf-8", newline="")), delimiter=";") for r in part
                ]
                csv.writer(out, delimiter=";", lineterminator="\n").writerows(heapq.merge(*readers, key=itemgetter(0)))
            for r in part:
                r.unlink()
            longer.append(path)
        runs = longer
    return runs


def _runs(path: Path, folder: Path) -> tuple[list[str], list[Path]]:
    """The header, and the file's non-empty lines as sorted runs (each line prefixed by its NIR)."""
    runs: list[Path] = []
    with path.open("rb") as fh:
        _raw, text = text_lines(iter(lambda: fh.read(1 << 20), b""))
        reader = csv.reader(text, delimiter=";")
        header = next(reader, [])
        keys = [column_key(h) for h in header]
        if OPTIONAL_BATCH not in keys:
            raise NoNirColumn
        at = keys.index(OPTIONAL_BATCH)
        rows: list[list[str]] = []
        for cells in reader:
            if any(c.strip() for c in cells) and len(cells) > at:
                rows.append([clean_nir(cells[at]), *cells])
                if len(rows) >= RUN_LINES:
                    runs.append(_write_run(folder, len(runs), rows))
                    rows = []
        if rows:
            runs.append(_write_run(folder, len(runs), rows))
    return header, _merge_runs(folder, runs)


@contextmanager
def by_holder(path: Path) -> Iterator[tuple[list[str], Iterator[tuple[str, Iterator[list[str]]]]]]:
    """(header, groups): each group is a NIR (as written, cleaned) and an iterator of its lines.
    Groups must be consumed in order (they share the merge)."""
    with tempfile.TemporaryDirectory(prefix="carnet-batch-") as tmp, ExitStack() as files:
        header, runs = _runs(path, Path(tmp))
        readers = [
            csv.reader(files.enter_context(run.open(encoding="utf-8", newline="")), delimiter=";") for run in runs
        ]
        merged = heapq.merge(*readers, key=itemgetter(0))
        groups = ((nir, (row[1:] for row in lines)) for nir, lines in groupby(merged, key=itemgetter(0)))
        yield header, groups


def holder_file(header: list[str], lines: Iterator[list[str]]) -> tuple[tempfile.SpooledTemporaryFile, int]:
    """One holder's statement (the header, then its lines) as a file to send, and its line count."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")
    count = 0
    block = io.StringIO()
    writer = csv.writer(block, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    for cells in lines:
        writer.writerow(cells)
        count += 1
        if count % BLOCK == 0:
            spool.write(block.getvalue().encode())
            block.seek(0)
            block.truncate()
    spool.write(block.getvalue().encode())
    spool.seek(0)
    return spool, count


def count_lines(lines: Iterator[list[str]]) -> int:
    return sum(1 for _ in lines)
