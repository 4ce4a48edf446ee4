"""Memory figures read from /proc (Linux), shared by the benchmark sections."""

from __future__ import annotations

from pathlib import Path


def proc_kb(pid: int | str, field: str) -> int:
    """A kB field of /proc/<pid>/status: VmRSS now, or VmHWM, the peak since the process's
    exec (ru_maxrss would also count the pages of the process that forked it)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")
