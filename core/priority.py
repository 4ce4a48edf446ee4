"""Slow CPU work runs at a lower CPU priority than the requests around it: a password check, a PDF
drawn or laid out. At a peak the pages of people already in are answered first, and a run of
password guesses or heavy files cannot starve them; on idle cores slow work gets all it asks for
(docs/performance.md, 90).

Linux gives each thread its own niceness, and a thread it creates inherits it. Anyone may raise
it; lowering it back takes a privilege. So it is raised only where nothing else ever runs: the
thread of a process's password checks, and a child of the fork server. Never where a database
write lock is taken (the background jobs' threads write in batches): a holder starved of CPU would
stall every writer of every process behind it.

Plain Python (no Flask).
"""

from __future__ import annotations

import os
import threading

#: How much nicer slow work is than the requests (niceness 0 to 19: at each step the kernel gives
#: a busy thread about a quarter less CPU than one a step below it).
SLOW_WORK = 10


def lower_this_thread(by: int = SLOW_WORK) -> None:
    """Raise the calling thread's niceness by `by` (19 at most), for the rest of its life."""
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
    except OSError:  # a system that refuses: the work runs at the requests' priority, as before
        return
