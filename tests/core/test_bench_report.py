"""Every benchmark section reads its percentiles by nearest rank, from the one function."""

from __future__ import annotations

import pytest

from benchmarks.report import percentile


@pytest.mark.parametrize(
    "values, q, expected",
    [
        (list(range(1, 21)), 95, 19),  # 19 of 20 at or below: not the slowest
        (list(range(1, 21)), 50, 10),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 70)), 95, 66),  # 65.55 rounds up to the 66th
        ([7.0], 95, 7.0),
        ([3, 1, 2], 100, 3),
        ([3, 1, 2], 0, 1),
        ([], 95, 0.0),
    ],
)
def test_a_percentile_is_the_smallest_value_with_that_share_at_or_below_it(values, q, expected):
    assert percentile(values, q) == expected
