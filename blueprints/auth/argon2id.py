"""Argon2id password checks on a working memory each process maps once.

libargon2, through argon2-cffi's low-level binding, computes the function with exactly the
parameters the stored hash names. What changes is where its memory comes from. A check at
Carnet's profile fills 64 MiB; mapped afresh for every check, as argon2-cffi and libsodium do,
that is 16,384 page faults, and a quarter of the check's CPU is spent in the kernel. Here each
process maps that memory on its first check (asking for huge pages) and lends it to one check
at a time; libargon2 wipes it after every use, so no password-derived block stays in it. A check
that finds it lent, or that needs more than MOST_LENT, gets memory of its own, as before
(docs/performance.md, 87). The checks, and the hashes of new passwords, run on a thread of
their own, at slow work's CPU priority (core.priority; docs/performance.md, 90).

Plain Python (no Flask).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import mmap
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import extract_parameters
from argon2.exceptions import InvalidHashError
from argon2.low_level import core, ffi

from core import priority

#: Huge page size: the working memory starts on such a boundary and is a whole number of them.
HUGE_PAGE = 2 << 20
#: The most memory a process keeps lent between checks (a hash naming more gets its own).
MOST_LENT = 256 << 20
_MEMORY_ALLOCATION_ERROR = -22  # ARGON2_MEMORY_ALLOCATION_ERROR


class _WorkingMemory:
    """One anonymous mapping per process, lent to one check at a time (`lock`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mapping: mmap.mmap | None = None
        self.view = None  # the mapping as cffi sees it, released before the mapping is closed
        self.start = ffi.NULL  # its first huge-page boundary
        self.size = 0

    def fit(self, size: int) -> bool:
        """Whether `size` bytes can be lent from `start` (called with the lock held)."""
        if size <= self.size:
            return True
        self.close()
        size = -(-size // HUGE_PAGE) * HUGE_PAGE
        try:
            mapping = mmap.mmap(-1, size + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        except OSError:  # no memory to keep: this check gets its own, as any check would
            return False
        view = ffi.from_buffer("uint8_t[]", mapping)
        offset = -int(ffi.cast("uintptr_t", view)) % HUGE_PAGE
        if hasattr(mmap, "MADV_HUGEPAGE"):  # before the first touch: the kernel then faults 2 MiB at a time
            mapping.madvise(mmap.MADV_HUGEPAGE, offset, size)
        self.mapping, self.view, self.start, self.size = mapping, view, view + offset, size
        return True

    def close(self) -> None:
        if self.mapping is not None:
            ffi.release(self.view)
            self.mapping.close()
        self.mapping, self.view, self.start, self.size = None, None, ffi.NULL, 0

    def forget(self) -> None:
        """In a forked process: the parent's lock may be held by a thread the child does not
        have, and the parent's pages would be copied on their first write anyway."""
        self.close()
        self.lock = threading.Lock()


_MEMORY = _WorkingMemory()


os.register_at_fork(after_in_child=_MEMORY.forget)


class _Checks:
    """The thread that computes a process's checks, started at its first, at slow work's CPU
    priority (core.priority): a request waits for its check there. One check at a time, as the
    working memory is lent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.thread: ThreadPoolExecutor | None = None

    def run(self, work, *args):
        with self.lock:
            if self.thread is None:
                self.thread = ThreadPoolExecutor(1, "argon2id", initializer=priority.lower_this_thread)
            thread = self.thread
        return thread.submit(work, *args).result()

    def forget(self) -> None:
        """In a forked process: the parent's thread is not there."""
        self.lock = threading.Lock()
        self.thread = None


_CHECKS = _Checks()


os.register_at_fork(after_in_child=_CHECKS.forget)


@ffi.callback("int(uint8_t **, size_t)", error=_MEMORY_ALLOCATION_ERROR)
def _lend(out, size: int) -> int:
    if size > _MEMORY.size:
        return _MEMORY_ALLOCATION_ERROR
    out[0] = _MEMORY.start
    return 0


@ffi.callback("void(uint8_t *, size_t)")
def _take_back(memory, size: int) -> None:
    """libargon2 has wiped it; it stays mapped for the next check."""


def _b64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def verify(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` (an encoded Argon2 hash) was made from, with the
    variant, version and costs the hash names, as argon2-cffi reads them. Anything that is not an
    Argon2 hash never matches. Computed on the process's checks thread (_Checks)."""
    return _CHECKS.run(_verify, stored, password)


def hash_new(hasher, password: str) -> str:
    """A new password's hash, made by argon2-cffi's `hasher` on the checks thread too: as slow as
    a check, and as free of any database lock."""
    return _CHECKS.run(hasher.hash, password)


def _verify(stored: str, password: str) -> bool:
    try:
        params = extract_parameters(stored)
        salt, digest = (_b64(part) for part in stored.split("$")[-2:])
    except (InvalidHashError, ValueError, binascii.Error):
        return False
    costs = (params.time_cost, params.memory_cost, params.parallelism)
    if not digest or not all(0 < cost < 1 << 32 for cost in costs):
        return False
    secret = password.encode()
    out = ffi.new("uint8_t[]", len(digest))
    need = params.memory_cost * 1024  # libargon2 asks for at most this (never less than 8 KiB a lane)
    context = {
        "out": out,
        "outlen": len(digest),
        "pwd": ffi.new("uint8_t[]", secret),
        "pwdlen": len(secret),
        "salt": ffi.new("uint8_t[]", salt),
        "saltlen": len(salt),
        "secret": ffi.NULL,
        "secretlen": 0,
        "ad": ffi.NULL,
        "adlen": 0,
        "t_cost": params.time_cost,
        "m_cost": params.memory_cost,
        "lanes": params.parallelism,
        "threads": 1,  # the lanes in turn: threads would answer sooner but cost an eighth more CPU
        "version": params.version,
        "allocate_cbk": ffi.NULL,
        "free_cbk": ffi.NULL,
        "flags": 0,
    }
    lock = _MEMORY.lock
    lent = need <= MOST_LENT and lock.acquire(blocking=False)
    try:
        if lent and _MEMORY.fit(need):
            context["allocate_cbk"], context["free_cbk"] = _lend, _take_back
        result = core(ffi.new("argon2_context *", context), params.type.value)
    finally:
        if lent:
            lock.release()
    return result == 0 and hmac.compare_digest(bytes(out), digest)
