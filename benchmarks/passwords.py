"""The argon2id profiles the morning peak's stored password hashes are made with
(`--password-profile`), apart from benchmarks.peak: benchmarks.run reads them to parse its
arguments, and a module run with `python -m` is imported again by every child process that
draws a PDF (multiprocessing prepares the child's `__main__`), so it imports only what it needs.

"shipped": RFC 9106's low-memory profile, Carnet's default and its production floor, as the
seed makes them. "owasp": the minimum OWASP's Password Storage Cheat Sheet gives for argon2id,
a what-if the report names: the run's copy gets its hashes made anew and the server checks
them at it."""

from core.config import DEFAULTS

PASSWORD_PROFILES = {
    "shipped": {key: DEFAULTS[key] for key in ("ARGON2_TIME_COST", "ARGON2_MEMORY_KIB", "ARGON2_PARALLELISM")},
    "owasp": {"ARGON2_TIME_COST": 2, "ARGON2_MEMORY_KIB": 19456, "ARGON2_PARALLELISM": 1},
}
