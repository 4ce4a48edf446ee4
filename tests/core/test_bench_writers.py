"""The writers' benchmark compares what it says: the same engine with and without the processes'
turn (docs/performance.md, 88)."""

import pytest

from benchmarks import writers

pytestmark = pytest.mark.sqlite_only


def test_the_benchmark_runs_both_ways_and_only_the_turns_use_the_file(tmp_path):
    poll = writers.measure(tmp_path, turns=False, seconds=1.0, pause_ms=0)
    assert not list(tmp_path.glob("*-writers"))  # SQLite's own poll: no process took a turn
    turns = writers.measure(tmp_path, turns=True, seconds=1.0, pause_ms=0)
    assert len(list(tmp_path.glob("*-writers"))) == 1
    for run in (poll, turns):
        assert run["tx_per_s"] > 0 and run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"]
