"""docs/performance.md holds each optimisation's figure, rule and tests: the tests it names exist,
and every place that cites an entry by number finds it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "performance.md"
ENTRY = re.compile(r"^### (\d+)\. .+$", re.MULTILINE)
SPAN = re.compile(r"`([^`]+)`")
CITED = re.compile(r"performance\.md,[\s#*]*(\d+)")
SOURCES = ("app.py", "blueprints", "core", "benchmarks", "tests", "templates", "static", "README.md", "Makefile")


def _entries() -> dict[int, str]:
    text = DOC.read_text()
    marks = list(ENTRY.finditer(text))
    found = {}
    for mark in marks:
        rest = text[mark.end() :]
        end = re.search(r"^#{2,3} ", rest, re.MULTILINE)
        found[int(mark.group(1))] = text[mark.start() : mark.end() + (end.start() if end else len(rest))]
    assert len(found) == len(marks), "an entry's number is used twice"
    return found


def _test_refs(text: str) -> list[tuple[str, str]]:
    """(path, test name or "") of every test a text names: `tests/a.py::test_b`, then `::test_c`
    for another of the same file, or a whole file or folder (`tests/security`)."""
    refs, path = [], None
    for span in SPAN.findall(text):
        if span.startswith("tests/"):
            path, _sep, name = span.partition("::")
            refs.append((path, name))
        elif span.startswith("::test_") and path:
            refs.append((path, span[2:]))
    return refs


def test_every_optimisation_says_its_figure_rule_and_tests():
    entries = _entries()
    assert sorted(entries) == list(range(1, len(entries) + 1))  # numbered in order, none missing
    for number, entry in entries.items():
        for part in ("Figure", "Rule", "Test"):
            assert f"**{part}" in entry, f"entry {number} has no {part}"
        assert _test_refs(entry), f"entry {number} names no test"


def test_the_tests_the_document_names_exist():
    refs = _test_refs(DOC.read_text())
    assert len(refs) > 100
    missing = []
    for path, name in refs:
        where = ROOT / path
        if name:
            found = where.is_file() and re.search(rf"^\s*def {name}\(", where.read_text(), re.MULTILINE)
        else:
            found = where.exists() and (where.is_dir() or where.name.startswith("test_"))
        if not found:
            missing.append(f"{path}::{name}")
    assert not missing


def _files():
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            yield path
        else:
            yield from (
                p for p in path.rglob("*") if p.is_file() and p.suffix in {".py", ".html", ".js", ".css", ".md"}
            )


def test_every_entry_cited_by_number_is_there():
    entries = _entries()
    cited = {
        (str(path.relative_to(ROOT)), int(number))
        for path in _files()
        for number in CITED.findall(path.read_text(errors="replace"))
    }
    assert cited
    assert not {(path, number) for path, number in cited if number not in entries}
