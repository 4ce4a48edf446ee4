"""The morning peak says when its paced phase ran at the machine's limit: a request's server CPU in
each phase follows the machine's speed, so a slower machine queues the paced phase on every page."""

from __future__ import annotations

import pytest

from benchmarks import peak


def test_a_paced_phase_whose_requests_cost_what_the_peaks_did_ran_at_the_planned_share():
    load, text = peak._pace(3.9, 3.9)
    assert load == pytest.approx(peak.PACE)
    assert "the pace was 80% of what the machine could serve meanwhile" in text
    assert "slowed" not in text


def test_a_paced_phase_whose_requests_cost_a_quarter_more_is_said_to_be_a_queue():
    load, text = peak._pace(3.9, 4.9)
    assert load == pytest.approx(0.8 * 4.9 / 3.9)
    assert load >= peak.QUEUED
    assert "the machine slowed: the paced phase's latencies are a queue's" in text


def test_without_the_servers_cpu_nothing_is_claimed():
    assert peak._pace(None, 4.0) == (None, "n/a")
    assert peak._pace(3.9, None) == (None, "n/a")
