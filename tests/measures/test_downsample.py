"""Downsampling keeps what a person must see: first, last, the extremes; never too many points."""

from __future__ import annotations

import math
import random

import pytest

from blueprints.measures.downsample import downsample, indices


def _series(n: int, seed: int = 1) -> list[tuple]:
    rnd = random.Random(seed)
    return [(1_700_000_000 + i * 300, 70 + 15 * math.sin(i / 400) + rnd.gauss(0, 5)) for i in range(n)]


@pytest.mark.parametrize("n,target", [(200_000, 500), (10_000, 300), (1_000, 50), (50, 7)])
def test_extremes_first_last_kept_and_length_bounded(n, target):
    rows = _series(n)
    rows[n // 3] = (rows[n // 3][0], 400.0)  # a spike LTTB alone could drop
    rows[n // 2] = (rows[n // 2][0], -50.0)
    out = downsample(rows, target)
    assert len(out) <= target
    assert out[0] == rows[0] and out[-1] == rows[-1]
    values = [r[1] for r in out]
    assert max(values) == 400.0 and min(values) == -50.0


def test_output_sorted_by_time_and_taken_from_input():
    rows = _series(5_000)
    out = downsample(rows, 200)
    assert [r[0] for r in out] == sorted(r[0] for r in out)
    assert len({r[0] for r in out}) == len(out)
    assert set(out) <= set(rows)


def test_short_input_unchanged():
    rows = _series(40)
    assert downsample(rows, 500) == rows
    assert downsample([], 10) == []
    assert indices([1, 2], [5.0, 6.0], 2) == [0, 1]


def test_keeps_shape_of_a_clean_signal():
    """A sine thinned to 10 points a period still reaches near +1 and -1 in every period."""
    rows = [(i, math.sin(i / 1000 * 2 * math.pi)) for i in range(20_000)]
    out = downsample(rows, 200)
    for period in range(20):
        chunk = [v for t, v in out if period * 1000 <= t < (period + 1) * 1000]
        assert max(chunk) > 0.9 and min(chunk) < -0.9


def test_pairs_share_instants_and_keep_both_extremes():
    rnd = random.Random(4)
    rows = [(i, 125 + rnd.gauss(0, 8), 80 + rnd.gauss(0, 6)) for i in range(30_000)]
    rows[777] = (777, 130.0, 30.0)  # lowest diastolic, ordinary systolic
    rows[20_001] = (20_001, 120.0, 150.0)  # highest diastolic
    out = downsample(rows, 300, y2=2)
    assert len(out) <= 300
    assert all(len(r) == 3 for r in out)  # systolic and diastolic come from the same rows
    assert min(r[2] for r in out) == 30.0 and max(r[2] for r in out) == 150.0
    assert min(r[1] for r in out) == min(r[1] for r in rows)
    assert max(r[1] for r in out) == max(r[1] for r in rows)


def test_pairs_with_missing_second_value():
    rows = [(i, 100.0 + i % 7, None if i % 3 else 60.0 + i % 5) for i in range(2_000)]
    out = downsample(rows, 50, y2=2)
    assert len(out) <= 50
    assert max(r[1] for r in out) == 106.0


def test_tiny_target_still_bounded():
    rows = _series(1_000)
    assert len(downsample(rows, 3)) <= 3
    assert len(downsample(rows, 2)) == 2
