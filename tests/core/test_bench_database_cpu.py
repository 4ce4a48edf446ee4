"""The morning peak says what a PostgreSQL server on the same cores used: the CPU of the
processes of that name, read from /proc."""

from __future__ import annotations

import subprocess
import sys

from benchmarks import server

NAME = b"carnet-db-test"  # a process of its own stands in for the server
CHILD = f"""
import sys, time
open("/proc/self/comm", "w").write({NAME.decode()!r})
print("named", flush=True)
sys.stdin.readline()
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
print("spun", flush=True)
sys.stdin.readline()
"""


def test_the_database_servers_cpu_is_read_from_its_processes():
    assert server.database_cpu_seconds(NAME) is None  # none of that name yet
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "named\n"
        before = server.database_cpu_seconds(NAME)
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline() == "spun\n"
        after = server.database_cpu_seconds(NAME)
    finally:
        child.communicate("end\n", timeout=10)
    assert before is not None and after is not None
    assert 0.25 <= after - before < 5
