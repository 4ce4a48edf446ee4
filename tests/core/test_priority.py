"""Slow work is nicer than the requests (docs/performance.md, 90): only the thread that asks."""

from __future__ import annotations

import os
import threading

from core import priority


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_thread_that_lowers_its_priority_leaves_the_others_as_they_were():
    mine = _niceness()
    seen = {}

    def slow_work():
        priority.lower_this_thread()
        seen["after"] = _niceness()
        inner = threading.Thread(target=lambda: seen.setdefault("its_thread", _niceness()))
        inner.start()
        inner.join()

    thread = threading.Thread(target=slow_work)
    thread.start()
    thread.join()
    assert seen == {"after": min(19, mine + priority.SLOW_WORK), "its_thread": min(19, mine + priority.SLOW_WORK)}
    assert _niceness() == mine


def test_niceness_stops_at_19():
    seen = []

    def slow_work():
        priority.lower_this_thread(15)
        priority.lower_this_thread(15)
        seen.append(_niceness())

    thread = threading.Thread(target=slow_work)
    thread.start()
    thread.join()
    assert seen == [19]
