"""A password check borrows its process's working memory, wiped after every use; a check that finds
it lent, or that needs more than is ever lent, gets memory of its own (docs/performance.md, 87)."""

from __future__ import annotations

import importlib.metadata
import os
import resource
import subprocess
import threading

import pytest
from argon2 import PasswordHasher
from argon2.low_level import ffi

from blueprints.auth import argon2id
from core import priority

# 64 MiB, as Carnet's profile: more than glibc ever keeps for reuse, so memory of a check's own
# is mapped afresh, page by page, each time.
WIDE = PasswordHasher(time_cost=1, memory_cost=65536, parallelism=1).hash("correct horse")
SMALL = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2).hash("correct horse")


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_a_second_check_finds_its_memory_mapped_already():
    assert argon2id.verify(WIDE, "correct horse")
    before = _faults()
    assert argon2id.verify(WIDE, "correct horse")
    assert not argon2id.verify(WIDE, "correct horsf")
    assert _faults() - before < 1_000  # 16,384 a check when its 64 MiB are mapped afresh


def test_the_memory_is_wiped_after_each_check_and_given_back():
    assert argon2id.verify(SMALL, "correct horse")
    memory = argon2id._MEMORY
    assert memory.size >= 8192 * 1024
    assert bytes(ffi.buffer(memory.start, memory.size)) == bytes(memory.size)
    assert memory.lock.acquire(blocking=False)
    memory.lock.release()


def test_a_check_that_finds_the_memory_lent_gets_its_own():
    with argon2id._MEMORY.lock:
        assert argon2id.verify(SMALL, "correct horse")
        assert not argon2id.verify(SMALL, "correct horse ")


def test_checks_at_the_same_time_each_get_their_answer():
    answers = {}

    def check(i):
        answers[i] = argon2id.verify(SMALL, "correct horse" if i % 2 else "wrong")

    threads = [threading.Thread(target=check, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == {i: bool(i % 2) for i in range(6)}


def test_a_hash_that_needs_more_than_is_ever_lent_gets_its_own(monkeypatch):
    argon2id._MEMORY.close()
    monkeypatch.setattr(argon2id, "MOST_LENT", 1 << 20)
    assert argon2id.verify(SMALL, "correct horse")
    assert not argon2id.verify(SMALL, "wrong")
    assert argon2id._MEMORY.size == 0


def test_a_forked_process_maps_its_own():
    assert argon2id.verify(SMALL, "correct horse")
    with argon2id._MEMORY.lock:  # held by this process while it forks
        pid = os.fork()
        if pid == 0:  # the child: nothing of the parent's memory, and a lock of its own
            ok = argon2id._MEMORY.size == 0 and argon2id.verify(SMALL, "correct horse")
            os._exit(0 if ok and argon2id._MEMORY.size > 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("stored", ["$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$", "$argon2id$v=19$m=8,t=1,p=1$c2$aGFzaA"])
def test_a_hash_without_its_tag_or_with_a_short_salt_never_matches(stored):
    assert not argon2id.verify(stored, "")


def test_the_function_has_avx2_code_exactly_where_the_processor_has_avx2():
    """The Makefile builds argon2-cffi-bindings from its source with AVX2 where the processor has
    it; elsewhere PyPI's wheel (SSE2 code only) stays."""
    with open("/proc/cpuinfo") as cpu:
        avx2 = "avx2" in cpu.read().split()
    files = importlib.metadata.files("argon2-cffi-bindings")
    library = next(f.locate() for f in files if f.name.startswith("_ffi") and f.name.endswith(".so"))
    code = subprocess.run(["objdump", "-d", "--no-show-raw-insn", library], capture_output=True, text=True, check=True)
    assert ("%ymm" in code.stdout) == avx2


@pytest.mark.parametrize("costs", ["m=-8,t=1,p=1", "m=8,t=0,p=1", "m=8,t=1,p=4294967296"])
def test_costs_out_of_libargon2s_range_never_match(costs):
    assert not argon2id.verify(f"$argon2id$v=19${costs}$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "password")


def test_a_check_runs_on_a_thread_nicer_than_the_request(monkeypatch):
    """docs/performance.md, 90: the request waits for its check on the process's checks thread."""
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    monkeypatch.setattr(argon2id, "_verify", lambda *_: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert argon2id.verify(SMALL, "correct horse") == min(19, mine + priority.SLOW_WORK)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


def test_a_new_passwords_hash_is_made_on_the_checks_thread():
    class Hasher:
        def hash(self, password):
            return f"{password}:{os.getpriority(os.PRIO_PROCESS, threading.get_native_id())}"

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert argon2id.hash_new(Hasher(), "secret") == f"secret:{min(19, mine + priority.SLOW_WORK)}"
    made = argon2id.hash_new(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1), "correct horse")
    assert argon2id.verify(made, "correct horse")
