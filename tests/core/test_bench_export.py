"""The export section of `make bench` runs to its figures: a space has one unfinished export at a
time, so the baseline's job (read, never run) must not stand in the way of the timed ones."""

from __future__ import annotations

from types import SimpleNamespace

from benchmarks import export


def test_the_export_section_measures_both_sizes_after_its_baseline(monkeypatch):
    monkeypatch.setattr(export, "DOCUMENTS", 3)
    monkeypatch.setattr(export, "MEASURES", 40)
    monkeypatch.setattr(export, "TRACES", 5)
    result = export.run(SimpleNamespace(runs=1))
    assert [len(result.data["runs"][size]) for size in ("1", "2")] == [1, 1]
    assert all(run["status"] == "done" and run["size"] > 0 for size in ("1", "2") for run in result.data["runs"][size])
    assert result.data["baseline"]["rss_mb"] > 0
