"""The cold-cache benchmark times what it says: each mode's requests alone, interleaved, the
evicted ones after the scratch memory was written line by line (benchmarks/cold.py)."""

import time

from benchmarks import cold


def test_each_mode_times_its_own_call_in_rounds_after_the_warmup(monkeypatch):
    scratch = bytearray(cold.LINE * 1000)
    seen = []
    timed = []
    process_time = time.process_time

    def call():
        # what the call finds: whether the scratch was just written (evicted), and when
        seen.append((scratch[0], time.monotonic()))
        scratch[0] = 0  # the next round's write marks it again

    def clock():
        timed.append(len(seen))  # how many calls were made when the clock was read
        return process_time()

    monkeypatch.setattr(time, "process_time", clock)
    figures = cold.measure(call, n=4, scratch=scratch, warmup=3)
    monkeypatch.undo()
    assert set(figures) == set(cold.MODES) and all(v > 0 for v in figures.values())
    assert len(seen) == 3 + 4 * 5
    # each round: evicted (counted), two calls not counted, warm (counted), idle (counted)
    assert [s for s, _ in seen[3:]] == [1, 0, 0, 0, 0] * 4
    counted = {end for start, end in zip(timed[0::2], timed[1::2]) if end == start + 1}
    assert sorted(counted) == [3 + 5 * r + k for r in range(4) for k in (1, 4, 5)]
    assert all(scratch[i] == 1 for i in range(cold.LINE, len(scratch), cold.LINE))
    assert all(seen[3 + 5 * r + 4][1] - seen[3 + 5 * r + 3][1] >= cold.IDLE_SECONDS for r in range(4))


def test_a_costly_call_is_measured_as_costly():
    def cheap():
        pass

    def costly():
        sum(range(20_000))

    scratch = bytearray(cold.LINE * 16)
    low = cold.measure(cheap, n=20, scratch=scratch, warmup=1)
    high = cold.measure(costly, n=20, scratch=scratch, warmup=1)
    assert all(high[m] > low[m] for m in cold.MODES)


def test_the_bare_route_is_called_as_the_peak_serves_it():
    call = cold.bare_call()
    call()  # raises unless 200
    assert cold.measure(call, n=2, scratch=bytearray(cold.LINE), warmup=1)["warm"] > 0
