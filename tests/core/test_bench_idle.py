"""The morning peak says how much of the machine sat idle while its peak ran: a peak that waited
(for the disk, a lock) instead of computing measured no throughput of the machine's."""

from __future__ import annotations

import os
import time

import pytest

from benchmarks import peak, server


def test_a_peak_that_kept_the_cores_busy_is_a_figure():
    share, text = peak._idle(4.0, 40.0, 2)  # 4 idle core-seconds of 80: 5 %
    assert share == pytest.approx(0.05)
    assert text == "; the cores idle 5% of the time"


def test_a_peak_that_left_the_cores_idle_waited_and_says_so():
    share, text = peak._idle(22.4, 40.0, 2)  # as the run after another's writes: 28 %
    assert share == pytest.approx(0.28) and share >= peak.WAITED
    assert "the peak waited, for the disk or a lock, instead of computing" in text


def test_the_idle_time_is_read_from_the_machines_counters(tmp_path):
    stat = tmp_path / "stat"
    tick = os.sysconf("SC_CLK_TCK")
    stat.write_text(f"cpu  100 0 50 {3 * tick} {tick} 0 7 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    assert server.idle_core_seconds(stat) == pytest.approx(4.0)  # idle and iowait
    before = server.idle_core_seconds()
    time.sleep(0.2)
    assert server.idle_core_seconds() >= before  # the real counters only grow
