"""Fewer points that still look like the series: LTTB that keeps the extremes.

Largest-Triangle-Three-Buckets (Steinarsson, 2013) keeps, in each bucket, the point that
makes the largest triangle with the point kept before and the mean of the next bucket: peaks
survive, flat stretches thin out. It can still drop the global minimum or maximum, which a
person looking at their own measures must see (the one fever, the one hypoglycaemia), so
those are put back and the LTTB target shrinks to make room: the result never exceeds the
target.

Long inputs are first reduced to the minimum and maximum of small index buckets (the
MinMaxLTTB pre-selection of Van Der Donckt et al., 2023), done with C-level built-ins on
list slices: LTTB's Python loop then only sees a few thousand candidates, so 200,000 points
come down to 500 in about ten milliseconds. Pairs (blood pressure) are chosen on the same
instants: the triangle areas of both values add up, and both series' extremes are kept.

Pure Python on purpose: no NumPy in the request path for a few thousand floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

PRESELECT = 4  # candidates kept per output point before LTTB (MinMaxLTTB's ratio)


def downsample(rows: Sequence[Sequence], target: int, x: int = 0, y: int = 1, y2: int | None = None) -> list:
    """The rows (tuples sorted by rows[i][x]) to draw, at most `target` of them.

    `y2`, when given, is the index of a second value measured at the same instant (diastolic);
    rows where it is None are fine. Short inputs come back unchanged (as a new list)."""
    n = len(rows)
    if n <= target:
        return list(rows)
    ys = list(map(itemgetter(y), rows))  # C-level copy: the bucket scans run on plain lists
    ys2 = list(map(itemgetter(y2), rows)) if y2 is not None else None
    return [rows[i] for i in indices(_Column(rows, x), ys, target, ys2)]


class _Column:
    """rows[i][x] on demand: LTTB reads the instants of its few thousand candidates only."""

    __slots__ = ("rows", "x")

    def __init__(self, rows: Sequence[Sequence], x: int):
        self.rows, self.x = rows, x

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int):
        return self.rows[i][self.x]


def indices(xs: Sequence[float], ys: Sequence[float], target: int, ys2: Sequence | None = None) -> list[int]:
    """Sorted indices of the points to keep: first, last, every series' global min and max, and
    LTTB's choice for the rest; never more than `target` (at least 2)."""
    n = len(xs)
    if n <= target:
        return list(range(n))
    target = max(target, 2)
    last = n - 1
    if ys2 is not None and all(v is None for v in ys2):
        ys2 = None
    per = 4 if ys2 is not None else 2
    # Candidates: every point, or each small bucket's min and max. Either way the global
    # extremes are among them, so they are looked for there (a few thousand, not 200,000).
    cand = _preselect(ys, ys2, (target - per) * PRESELECT, per)
    wanted = list(_extremes(ys, cand))
    if ys2 is not None:
        wanted += _extremes(ys2, cand)
    extremes: set[int] = set()
    for i in wanted:  # in order of importance, as far as a tiny target allows
        if i not in (0, last) and len(extremes) < target - 2:
            extremes.add(i)
    budget = target - len(extremes)
    if budget <= 2:
        return sorted({0, last} | extremes)
    chosen = _lttb(xs, ys, ys2, cand, budget)
    return sorted(set(chosen) | extremes)


def _extremes(values: Sequence, cand: list[int]) -> tuple[int, int]:
    """Indices of the smallest and largest value among the candidates (None skipped)."""
    present = [i for i in cand if values[i] is not None]
    return min(present, key=values.__getitem__), max(present, key=values.__getitem__)


def _bounds(values: Sequence, lo: int, hi: int) -> tuple[int, int] | None:
    seg = values[lo:hi]
    try:
        low, high = min(seg), max(seg)
    except TypeError:  # holes (a pair whose second value is missing)
        present = [v for v in seg if v is not None]
        if not present:
            return None
        low, high = min(present), max(present)
    return values.index(low, lo, hi), values.index(high, lo, hi)


def _preselect(ys: Sequence[float], ys2: Sequence | None, wanted: int, per: int) -> list[int]:
    """Indices of each index bucket's min and max (both series for pairs), with first and last."""
    n = len(ys)
    last = n - 1
    inner = n - 2
    if inner <= max(wanted, 2 * per):
        return list(range(n))
    buckets = max(1, wanted // per)
    out = [0]
    step = inner / buckets
    for b in range(buckets):
        lo = 1 + int(b * step)
        hi = 1 + int((b + 1) * step) if b < buckets - 1 else last
        if hi <= lo:
            continue
        picked = set(_bounds(ys, lo, hi) or ())
        if ys2 is not None:
            picked.update(_bounds(ys2, lo, hi) or ())
        out.extend(sorted(picked))
    out.append(last)
    return out


def _lttb(xs, ys, ys2, cand: list[int], target: int) -> list[int]:
    """Classic LTTB over the candidate indices (first and last candidates always kept)."""
    m = len(cand)
    if m <= target:
        return list(cand)
    cx = [float(xs[i]) for i in cand]
    cy = [float(ys[i]) for i in cand]
    cy2 = None
    if ys2 is not None:
        cy2 = [float(ys2[i]) if ys2[i] is not None else float(ys[i]) for i in cand]
    every = (m - 2) / (target - 2)
    out = [cand[0]]
    a = 0
    for b in range(target - 2):
        start = int(b * every) + 1
        end = int((b + 1) * every) + 1
        nstart = end
        nend = min(int((b + 2) * every) + 1, m)
        if nstart >= nend:  # last bucket: the next "bucket" is the final point
            nstart, nend = m - 1, m
        span = nend - nstart
        avg_x = sum(cx[nstart:nend]) / span
        avg_y = sum(cy[nstart:nend]) / span
        ax, ay = cx[a], cy[a]
        dx = ax - avg_x
        dy = avg_y - ay
        best, best_area = start, -1.0
        if cy2 is None:
            for j in range(start, end):
                area = abs(dx * (cy[j] - ay) - (ax - cx[j]) * dy)
                if area > best_area:
                    best, best_area = j, area
        else:
            avg_y2 = sum(cy2[nstart:nend]) / span
            ay2 = cy2[a]
            dy2 = avg_y2 - ay2
            for j in range(start, end):
                ex = ax - cx[j]
                area = abs(dx * (cy[j] - ay) - ex * dy) + abs(dx * (cy2[j] - ay2) - ex * dy2)
                if area > best_area:
                    best, best_area = j, area
        out.append(cand[best])
        a = best
    out.append(cand[-1])
    return out
