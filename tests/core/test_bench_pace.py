"""The morning peak paces its second phase at a share of the first's throughput, following the
machine's speed (a request's server CPU follows it), and says when that phase still ran at the
machine's limit, where every page's latency is a queue's."""

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


def test_a_paced_phase_is_judged_by_the_throughput_it_reached():
    load, text = peak._pace(3.0, 4.0, share=0.6)
    assert load == pytest.approx(0.6 * 4.0 / 3.0)
    assert "slowed" not in text


def _answers(pacer: peak.Pacer, n: int, cpu_us: int, start: float, every: float = 0.01) -> float:
    for k in range(n):
        pacer.answered(cpu_us, now=start + k * every)
    return start + n * every


def test_the_pace_follows_the_machine_from_the_servers_cpu_per_answer():
    pacer = peak.Pacer(200.0, peak_cpu_us=4000)
    t = _answers(pacer, peak.Pacer.ENOUGH - 1, 8000, 0.0)
    assert pacer.rate == 200.0  # too few answers yet to read the machine from
    t = _answers(pacer, 1, 8000, t)
    assert pacer.rate == pytest.approx(100.0)  # answers twice as dear: the machine runs at half speed
    _answers(pacer, 2 * peak.Pacer.ENOUGH, 5000, t + peak.Pacer.WINDOW)  # the slow answers left the window
    assert pacer.rate == pytest.approx(160.0)
    assert pacer.rates[0] == pytest.approx(100.0) and pacer.rates[-1] == pytest.approx(160.0)


def test_the_pace_slows_with_the_machine_but_never_runs_past_the_planned_rate():
    low, high = peak.Pacer.LIMITS
    slowed = peak.Pacer(200.0, peak_cpu_us=4000)
    _answers(slowed, peak.Pacer.ENOUGH, 400_000, 0.0)
    assert slowed.rate == pytest.approx(200.0 * low)
    hurried = peak.Pacer(200.0, peak_cpu_us=4000)
    _answers(hurried, peak.Pacer.ENOUGH, 40, 0.0)
    assert hurried.rate == pytest.approx(200.0 * high) == 200.0


def test_a_pace_without_the_peaks_cpu_or_as_fast_as_answers_come_never_moves():
    fixed = peak.Pacer(200.0)
    _answers(fixed, 2 * peak.Pacer.ENOUGH, 9000, 0.0)
    assert fixed.rate == 200.0 and fixed.rates == []
    free = peak.Pacer(None, peak_cpu_us=4000)
    _answers(free, 2 * peak.Pacer.ENOUGH, 9000, 0.0)
    assert free.rate is None
