"""Encrypted, crash-safe blob store for uploaded documents.

Every blob is encrypted at rest with AES-256-GCM under its own random 256-bit data
key. The data key is wrapped (RFC 3394 AES key wrap) by the instance master key and
handed back to the caller, who stores it next to the document row. Deleting that row
makes the blob unreadable everywhere, backups included ("crypto-shredding"), as long
as the master key and the database are not both kept forever.

On-disk format of a blob file (all integers big-endian)::

    header  = b"CRNB" | version (1 byte) | chunk_size (4 bytes) | nonce_prefix (8 bytes)
    records = AES-GCM(chunk_0) | AES-GCM(chunk_1) | ... | AES-GCM(chunk_n)

Each plaintext chunk is ``chunk_size`` bytes except the last one, which may be
shorter (an empty blob has one empty last chunk). Each record is the chunk's
ciphertext followed by its 16-byte tag. Chunk ``i`` is sealed with

    nonce = nonce_prefix | i (4 bytes)
    aad   = header | blob_id | i (4 bytes) | last flag (1 byte)

so that reordering, swapping, truncating or extending the record sequence, moving a
blob to another id, or editing the header are all detected (the STREAM construction
of Hoang, Reyhanitabar, Rogaway and Vizár).

Durability: ``put`` writes to a temp file in the final directory, flushes and fsyncs
it, renames it into place and fsyncs the directory before returning. The caller then
commits the database row. A crash between the two leaves an orphan blob that
``check(..., remove_orphans=True)`` removes; a crash before the rename leaves a temp
file that ``check`` removes too. Both are reported at once, with their age; the grace
period (``DEFAULT_GRACE_SECONDS``, tied to the longest a request may run) only keeps
``check`` from removing what an upload still in flight may commit.

Backups: a backup holds ``backup_hold()`` (an exclusive ``flock`` on ``.backup.lock``)
from before it copies the database until it has copied the last file that copy knows.
``delete`` takes the same lock shared and without waiting; when a backup holds it, the
file is left in place and its id written under ``.deleted/``, and the file goes when the
backup ends (or at the next deletion, or ``check``). So a deletion committed while a
backup runs never removes a file the backup's database still refers to. The lock is the
kernel's: it vanishes with a process that dies, so a killed backup blocks nothing.

This module is plain Python (no Flask) so that it can be used by commands and tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import os
import re
import secrets
import stat
import struct
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: no flock; backups then rely on the app being quiet
    fcntl = None  # type: ignore[assignment]

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

__all__ = [
    "BlobCorrupt",
    "BlobMissing",
    "BlobStore",
    "BlobTooLarge",
    "CheckReport",
    "DEFAULT_CHUNK_SIZE",
    "MASTER_KEY_ENV",
    "StorageError",
    "SeekableBlob",
    "StoredBlob",
    "decode_key",
    "load_key_file",
    "load_master_key",
]

MASTER_KEY_ENV = "CARNET_MASTER_KEY"
MASTER_KEY_SIZE = 32
DATA_KEY_SIZE = 32
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 16
MAX_CHUNK_SIZE = 16 * 1024 * 1024

_MAGIC = b"CRNB"
_FORMAT_VERSION = 1
_HEADER = struct.Struct(">4sBI8s")  # magic, version, chunk size, nonce prefix
_TAG_SIZE = 16
_MAX_CHUNKS = 2**32  # the chunk counter is 4 bytes
_WRAP_VERSION = b"\x01"  # first byte of a wrapped key: wrapping scheme / master key generation
_TEMP_PREFIX = ".tmp-"
_BLOB_ID_RE = re.compile(r"[0-9a-f]{32}")
_SHARD_RE = re.compile(r"[0-9a-f]{2}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")

#: Files younger than this are reported but never removed: an upload may be between
#: ``put()`` and its database commit, or still being written (a temp file's age counts
#: from its last write). Both happen within one request, so this is the longest a request
#: may run (gunicorn's timeout, ``gunicorn.conf.py``) with a margin; the app passes its
#: own ``STORAGE_GRACE_SECONDS``.
DEFAULT_GRACE_SECONDS = 120.0
_LOCK_NAME = ".backup.lock"
_DELETED_DIR = ".deleted"


class StorageError(Exception):
    """Base class for blob store errors (bad configuration, bad id, I/O)."""


class BlobTooLarge(StorageError):
    """The stream holds more than the allowed number of bytes. Nothing was stored."""


class BlobCorrupt(StorageError):
    """The blob cannot be decrypted or does not match its recorded SHA-256."""


class BlobMissing(BlobCorrupt):
    """The blob file does not exist (a recorded document has lost its content)."""


@dataclass(frozen=True)
class StoredBlob:
    blob_id: str
    wrapped_key: bytes
    sha256: str
    size: int


@dataclass
class CheckReport:
    ok: int = 0
    corrupt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    #: blob files on disk that no database row knows (older than the grace period, or
    #: deleted while a backup ran)
    orphans: list[str] = field(default_factory=list)
    #: unknown blob files younger than the grace period (maybe uploads in flight)
    recent_unknown: list[str] = field(default_factory=list)
    #: temp files left by interrupted writes (older than the grace period)
    temp_files: list[Path] = field(default_factory=list)
    #: temp files younger than the grace period (maybe writes in flight)
    recent_temp_files: list[Path] = field(default_factory=list)
    removed_orphans: list[str] = field(default_factory=list)
    removed_temp_files: list[Path] = field(default_factory=list)
    #: age in seconds and size in bytes of every unknown blob (by id) and temp file (by path)
    ages: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    grace_seconds: float = DEFAULT_GRACE_SECONDS

    @property
    def healthy(self) -> bool:
        """True when every known blob is present and intact (leftovers aside)."""
        return not self.corrupt and not self.missing

    @property
    def clean(self) -> bool:
        """True when healthy and nothing is left over on disk."""
        return self.healthy and not self.orphans and not self.temp_files


def _unseal(aead: AESGCM, header: bytes, blob_id: str, prefix: bytes, index: int, last: bool, record: bytes) -> bytes:
    """Chunk `index` of a blob, authenticated with its place (index, last or not) and blob id."""
    try:
        return aead.decrypt(prefix + struct.pack(">I", index), record, BlobStore._aad(header, blob_id, index, last))
    except InvalidTag as exc:
        raise BlobCorrupt(f"chunk {index} failed authentication") from exc


class SeekableBlob(io.RawIOBase):
    """See :meth:`BlobStore.open_seekable`: decrypts one chunk at a time, the one read."""

    def __init__(self, fh: BinaryIO, aead: AESGCM, blob_id: str, header: bytes, chunk_size: int, prefix: bytes) -> None:
        super().__init__()
        records = os.fstat(fh.fileno()).st_size - _HEADER.size
        record_size = chunk_size + _TAG_SIZE
        self._count = max(1, -(-records // record_size))
        last_plain = records - (self._count - 1) * record_size - _TAG_SIZE
        if last_plain < 0:
            raise BlobCorrupt("blob truncated")
        self.size = (self._count - 1) * chunk_size + last_plain
        self._fh, self._aead, self._blob_id = fh, aead, blob_id
        self._header, self._prefix, self._chunk_size = header, prefix, chunk_size
        self._pos = 0
        self._index, self._plain = -1, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _chunk(self, index: int) -> bytes:
        if index != self._index:
            record_size = self._chunk_size + _TAG_SIZE
            self._fh.seek(_HEADER.size + index * record_size)
            record = _read_exact(self._fh, record_size)
            self._plain = _unseal(
                self._aead, self._header, self._blob_id, self._prefix, index, index == self._count - 1, record
            )
            self._index = index
        return self._plain

    def readinto(self, b) -> int:
        """Fills `b` as far as the end of the blob (zipfile expects whole reads)."""
        view, done = memoryview(b).cast("B"), 0
        while done < len(view) and self._pos < self.size:
            index, offset = divmod(self._pos, self._chunk_size)
            plain = self._chunk(index)
            n = min(len(view) - done, len(plain) - offset)
            view[done : done + n] = plain[offset : offset + n]
            done += n
            self._pos += n
        return done

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
        super().close()


# --------------------------------------------------------------------------- keys


def _decode_key(text: str, origin: str, label: str = "master key") -> bytes:
    cleaned = "".join(text.split())
    try:
        key = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError) as exc:
        raise StorageError(f"{label} from {origin} is not valid base64url") from exc
    if len(key) != MASTER_KEY_SIZE:
        raise StorageError(f"{label} from {origin} must decode to {MASTER_KEY_SIZE} bytes, got {len(key)}")
    return key


def _encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) with mode 0700, fsyncing each new entry."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            continue
        _fsync_dir(d.parent)


def load_master_key(instance_path: str | Path) -> bytes:
    """Return the 32-byte master key.

    Taken from the ``CARNET_MASTER_KEY`` environment variable (base64url) when set,
    else from ``<instance>/keys/master.key`` (base64url text), which is generated on
    first use with mode 0600 in a 0700 directory. A key file readable by group or
    others is refused, like OpenSSH does for private keys.
    """
    env = os.environ.get(MASTER_KEY_ENV)
    if env is not None and env.strip():
        return _decode_key(env, f"${MASTER_KEY_ENV}")
    return load_key_file(Path(instance_path) / "keys" / "master.key")


def load_key_file(key_file: Path, *, create: bool = True, label: str = "master key") -> bytes:
    """A 32-byte key kept as base64url text in ``key_file``, generated on first use (when
    ``create``) with mode 0600 in a 0700 directory; refused when group or others can read it."""
    key_dir = key_file.parent
    if not key_file.exists() and not create:
        raise StorageError(f"{label}: {key_file} does not exist")
    _make_private_dir(key_dir)

    if not key_file.exists():
        new_key = secrets.token_bytes(MASTER_KEY_SIZE)
        fd, tmp_name = tempfile.mkstemp(dir=key_dir, prefix=_TEMP_PREFIX)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(_encode_key(new_key) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, 0o600)
            try:
                # link() fails if another process created the key meanwhile, so two
                # processes starting together agree on a single key.
                os.link(tmp_name, key_file)
            except FileExistsError:
                pass
            else:
                _fsync_dir(key_dir)
        finally:
            try:
                os.unlink(tmp_name)
            except FileNotFoundError:
                pass

    if os.name != "nt":
        mode = stat.S_IMODE(os.stat(key_file).st_mode)
        if mode & 0o077:
            raise StorageError(f"{key_file} is accessible by group or others (mode {mode:o}); run: chmod 600 on it")
    return _decode_key(key_file.read_text(encoding="ascii"), str(key_file), label)


def decode_key(text: str, origin: str, label: str) -> bytes:
    """A 32-byte key given as base64url text (an environment variable, a setting)."""
    return _decode_key(text, origin, label)


# --------------------------------------------------------------------------- store


def _read_exact(fh: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes, looping over short reads; fewer only at EOF."""
    buf = bytearray()
    while len(buf) < n:
        part = fh.read(n - len(buf))
        if not part:
            break
        buf += part
    return bytes(buf)


class BlobStore:
    """Encrypted blobs under ``root``, sharded as ``root/ab/cd/<32 hex id>``."""

    def __init__(
        self,
        root: str | Path,
        master_key: bytes,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if not isinstance(master_key, (bytes, bytearray)) or len(master_key) != MASTER_KEY_SIZE:
            raise StorageError(f"master key must be {MASTER_KEY_SIZE} bytes")
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise StorageError(f"chunk size must be within [{MIN_CHUNK_SIZE}, {MAX_CHUNK_SIZE}]")
        self.root = Path(root)
        self._master_key = bytes(master_key)
        self.chunk_size = chunk_size
        _make_private_dir(self.root)

    @classmethod
    def from_instance(cls, instance_path: str | Path, **kwargs) -> BlobStore:
        instance = Path(instance_path)
        return cls(instance / "blobs", load_master_key(instance), **kwargs)

    def __repr__(self) -> str:  # never show the key
        return f"BlobStore(root={str(self.root)!r})"

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _check_id(blob_id: str) -> str:
        if not isinstance(blob_id, str) or not _BLOB_ID_RE.fullmatch(blob_id):
            raise StorageError("invalid blob id")
        return blob_id

    def _path(self, blob_id: str) -> Path:
        self._check_id(blob_id)
        return self.root / blob_id[:2] / blob_id[2:4] / blob_id

    def _wrap(self, data_key: bytes) -> bytes:
        return _WRAP_VERSION + aes_key_wrap(self._master_key, data_key)

    def _unwrap(self, wrapped_key: bytes) -> bytes:
        if (
            not isinstance(wrapped_key, (bytes, bytearray, memoryview))
            or len(wrapped_key) != 1 + DATA_KEY_SIZE + 8
            or bytes(wrapped_key[:1]) != _WRAP_VERSION
        ):
            raise BlobCorrupt("wrapped key has an unknown format")
        try:
            return aes_key_unwrap(self._master_key, bytes(wrapped_key[1:]))
        except InvalidUnwrap as exc:
            raise BlobCorrupt("wrapped key does not match the master key") from exc

    @staticmethod
    def _aad(header: bytes, blob_id: str, index: int, last: bool) -> bytes:
        return header + blob_id.encode("ascii") + struct.pack(">IB", index, 1 if last else 0)

    # ------------------------------------------------------------------ write

    def _fill(self, stream: BinaryIO) -> bytes:
        """Read one chunk from ``stream``; never asks for more than ``chunk_size``."""
        buf = bytearray()
        while len(buf) < self.chunk_size:
            part = stream.read(self.chunk_size - len(buf))
            if not part:
                break
            buf += part
        return bytes(buf)

    def put(self, stream: BinaryIO, max_size: int | None = None) -> StoredBlob:
        """Encrypt ``stream`` into a new blob; durable on disk when this returns.

        Reads at most ``chunk_size`` bytes per ``read()`` call and holds at most two
        chunks in memory. Raises :class:`BlobTooLarge` as soon as more than
        ``max_size`` bytes have been read, leaving nothing on disk.
        """
        if max_size is not None and max_size < 0:
            raise ValueError("max_size must be >= 0")
        blob_id = secrets.token_hex(16)
        final = self._path(blob_id)
        _make_private_dir(final.parent)

        data_key = secrets.token_bytes(DATA_KEY_SIZE)
        aead = AESGCM(data_key)
        prefix = secrets.token_bytes(8)
        header = _HEADER.pack(_MAGIC, _FORMAT_VERSION, self.chunk_size, prefix)
        digest = hashlib.sha256()
        size = 0

        fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=_TEMP_PREFIX)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(header)
                current = self._fill(stream)
                index = 0
                while True:
                    size += len(current)
                    if max_size is not None and size > max_size:
                        raise BlobTooLarge(f"more than {max_size} bytes")
                    digest.update(current)
                    nxt = self._fill(stream) if len(current) == self.chunk_size else b""
                    last = not nxt
                    if index >= _MAX_CHUNKS:
                        raise StorageError("blob too large for the chunk counter")
                    nonce = prefix + struct.pack(">I", index)
                    out.write(aead.encrypt(nonce, current, self._aad(header, blob_id, index, last)))
                    if last:
                        break
                    current = nxt
                    index += 1
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, final)
        except BaseException:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(final.parent)
        return StoredBlob(
            blob_id=blob_id,
            wrapped_key=self._wrap(data_key),
            sha256=digest.hexdigest(),
            size=size,
        )

    # ------------------------------------------------------------------ read

    def open(self, blob_id: str, wrapped_key: bytes, sha256: str) -> Iterator[bytes]:
        """Return an iterator of verified plaintext chunks.

        The id, the wrapped key and the file header are checked before this returns
        (so a web view can still answer with an error page). Each chunk is
        authenticated before it is yielded, and the last chunk is only yielded once
        the SHA-256 of the whole plaintext matched: a consumer never receives a
        complete-looking copy of damaged data. Raises :class:`BlobCorrupt`
        (:class:`BlobMissing` when the file is absent).
        """
        self._check_id(blob_id)
        expected = sha256.lower() if isinstance(sha256, str) else ""
        if not _SHA256_RE.fullmatch(expected):
            raise BlobCorrupt("recorded SHA-256 is not a hex digest")
        fh, aead, header, chunk_size, prefix = self._open_file(blob_id, wrapped_key)
        return self._decrypt(fh, aead, header, blob_id, chunk_size, prefix, expected)

    def _open_file(self, blob_id: str, wrapped_key: bytes) -> tuple:
        """The blob's file, open at its first record, with its cipher and checked header."""
        path = self._path(blob_id)
        aead = AESGCM(self._unwrap(wrapped_key))
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by the caller's reader
        except FileNotFoundError as exc:
            raise BlobMissing(f"blob {blob_id} is missing") from exc
        try:
            header = _read_exact(fh, _HEADER.size)
            if len(header) != _HEADER.size:
                raise BlobCorrupt("blob header truncated")
            magic, version, chunk_size, prefix = _HEADER.unpack(header)
            if magic != _MAGIC or version != _FORMAT_VERSION:
                raise BlobCorrupt("not a blob file or unknown version")
            if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
                raise BlobCorrupt("blob header has an invalid chunk size")
        except BaseException:
            fh.close()
            raise
        return fh, aead, header, chunk_size, prefix

    def _decrypt(
        self,
        fh: BinaryIO,
        aead: AESGCM,
        header: bytes,
        blob_id: str,
        chunk_size: int,
        prefix: bytes,
        expected_sha: str,
    ) -> Iterator[bytes]:
        record_size = chunk_size + _TAG_SIZE
        digest = hashlib.sha256()
        with fh:
            current = _read_exact(fh, record_size)
            index = 0
            while True:
                if len(current) < _TAG_SIZE:
                    raise BlobCorrupt("blob truncated")
                nxt = _read_exact(fh, record_size) if len(current) == record_size else b""
                last = not nxt
                if index >= _MAX_CHUNKS:
                    raise BlobCorrupt("too many chunks")
                plain = _unseal(aead, header, blob_id, prefix, index, last, current)
                digest.update(plain)
                if last:
                    if not hmac.compare_digest(digest.hexdigest(), expected_sha):
                        raise BlobCorrupt("SHA-256 mismatch")
                    if plain:
                        yield plain
                    return
                yield plain
                current = nxt
                index += 1

    def open_seekable(self, blob_id: str, wrapped_key: bytes) -> SeekableBlob:
        """A read-only, seekable file over the plaintext (a zip's directory is at its end).

        Every chunk is authenticated when read, with its index and whether it is the last
        one, so reordered, swapped, truncated or extended records are refused as in
        :meth:`open`; the whole-file SHA-256 is not checked, since a seekable reader may
        never read every chunk. Raises :class:`BlobCorrupt` (:class:`BlobMissing`)."""
        fh, aead, header, chunk_size, prefix = self._open_file(blob_id, wrapped_key)
        try:
            return SeekableBlob(fh, aead, blob_id, header, chunk_size, prefix)
        except BaseException:
            fh.close()
            raise

    def read_all(self, blob_id: str, wrapped_key: bytes, sha256: str) -> bytes:
        return b"".join(self.open(blob_id, wrapped_key, sha256))

    # ------------------------------------------------------------------ admin

    def exists(self, blob_id: str) -> bool:
        return self._path(blob_id).is_file()

    def delete(self, blob_id: str) -> None:
        """Remove the blob file (idempotent). The caller deletes the wrapped key first.

        While a backup runs (see ``backup_hold``) the file stays until the backup ends: the
        database the backup copied may still refer to it."""
        self._check_id(blob_id)
        fd = self._lock_fd()
        if fd is None:
            self._unlink(blob_id)
            return
        try:
            if not self._try_lock(fd, fcntl.LOCK_SH):
                self._defer(blob_id)
                # The backup may have ended between our try and the marker: look again.
                if not self._try_lock(fd, fcntl.LOCK_SH):
                    return
            self._unlink(blob_id)
            self._purge_deferred()
        finally:
            os.close(fd)

    def _unlink(self, blob_id: str) -> None:
        path = self._path(blob_id)
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        else:
            _fsync_dir(path.parent)
        try:
            (self.root / _DELETED_DIR / blob_id).unlink()
        except FileNotFoundError:
            pass

    def _lock_fd(self) -> int | None:
        if fcntl is None:
            return None
        try:
            return os.open(self.root / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the whole store is gone: nothing for a backup to copy either
            return None

    @staticmethod
    def _try_lock(fd: int, mode: int) -> bool:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _defer(self, blob_id: str) -> None:
        """Write down that the file is to go once the running backup ends."""
        deferred = self.root / _DELETED_DIR
        _make_private_dir(deferred)
        fd = os.open(deferred / blob_id, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)

    def deferred_deletions(self) -> list[str]:
        """Ids of files deleted while a backup ran, not removed yet."""
        try:
            names = sorted(os.listdir(self.root / _DELETED_DIR))
        except FileNotFoundError:
            return []
        return [n for n in names if _BLOB_ID_RE.fullmatch(n)]

    def _purge_deferred(self) -> None:
        for blob_id in self.deferred_deletions():
            self._unlink(blob_id)

    @contextmanager
    def backup_hold(self):
        """Held by a backup from before it copies the database until it has copied the last
        file: deletions meanwhile are deferred, and carried out when it ends. Waits for the
        deletions in progress (milliseconds each)."""
        fd = self._lock_fd()
        if fd is None:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock (a killed process releases it too)
        # Once released: a deletion that found the lock held wrote its marker before it looked
        # again, so before this purge; one that looks again after the release removes its file.
        # Purged under the lock, a marker written between the purge and the release stayed.
        self._purge_deferred()

    def path_of(self, blob_id: str) -> Path:
        """Where the blob's file lives (for backups)."""
        return self._path(blob_id)

    def _shard_dirs(self) -> Iterator[Path]:
        try:
            level1 = sorted(self.root.iterdir())
        except FileNotFoundError:
            return
        for d1 in level1:
            if not (_SHARD_RE.fullmatch(d1.name) and d1.is_dir()):
                continue
            for d2 in sorted(d1.iterdir()):
                if _SHARD_RE.fullmatch(d2.name) and d2.is_dir():
                    yield d2

    def iter_blob_ids(self) -> Iterator[str]:
        """Every blob file on disk (temp files and foreign files are skipped)."""
        for shard in self._shard_dirs():
            for entry in sorted(shard.iterdir()):
                name = entry.name
                if (
                    _BLOB_ID_RE.fullmatch(name)
                    and name[:2] == shard.parent.name
                    and name[2:4] == shard.name
                    and entry.is_file()
                ):
                    yield name

    def iter_temp_files(self) -> Iterator[Path]:
        """Temp files left by writes that are in progress or were interrupted."""
        for shard in self._shard_dirs():
            for entry in sorted(shard.iterdir()):
                if entry.name.startswith(_TEMP_PREFIX) and entry.is_file():
                    yield entry

    def verify(self, blob_id: str, wrapped_key: bytes, sha256: str) -> None:
        """Decrypt the whole blob and check its hash; raise BlobCorrupt if damaged."""
        for _ in self.open(blob_id, wrapped_key, sha256):
            pass

    def check(
        self,
        known: Mapping[str, tuple[bytes, str]],
        remove_orphans: bool = False,
        *,
        grace_seconds: float = DEFAULT_GRACE_SECONDS,
    ) -> CheckReport:
        """Compare the disk with ``known`` (blob_id -> (wrapped_key, sha256)).

        Every known blob is decrypted and hashed. Every unknown blob file and temp file is
        reported with its age and size. Those older than ``grace_seconds`` (counted from
        when ``check`` started: ``known`` was read just before), and files deleted while a
        backup ran, are orphans / stale temp files and, with ``remove_orphans=True``, are
        removed. Younger ones are left alone: they may belong to an upload whose row is not
        committed yet.
        """
        report = CheckReport(grace_seconds=grace_seconds)
        now = time.time()

        for blob_id in sorted(known):
            wrapped_key, sha = known[blob_id]
            try:
                self.verify(blob_id, wrapped_key, sha)
            except BlobMissing:
                report.missing.append(blob_id)
            except (BlobCorrupt, StorageError):
                report.corrupt.append(blob_id)
            else:
                report.ok += 1

        def describe(key, path: Path) -> float | None:
            try:
                st = path.stat()
            except FileNotFoundError:
                return None
            report.ages[key] = max(0.0, now - st.st_mtime)
            report.sizes[key] = st.st_size
            return report.ages[key]

        deferred = set(self.deferred_deletions())
        for blob_id in self.iter_blob_ids():
            if blob_id in known:
                continue
            age = describe(blob_id, self._path(blob_id))
            if age is None:
                continue
            if age < grace_seconds and blob_id not in deferred:
                report.recent_unknown.append(blob_id)
                continue
            report.orphans.append(blob_id)
            if remove_orphans:
                self.delete(blob_id)
                report.removed_orphans.append(blob_id)

        for tmp in self.iter_temp_files():
            age = describe(tmp, tmp)
            if age is None:
                continue
            if age < grace_seconds:
                report.recent_temp_files.append(tmp)
                continue
            report.temp_files.append(tmp)
            if remove_orphans:
                try:
                    tmp.unlink()
                except FileNotFoundError:
                    pass
                else:
                    _fsync_dir(tmp.parent)
                report.removed_temp_files.append(tmp)
        if remove_orphans:
            for blob_id in deferred - set(known):  # markers whose file is already gone
                if not self.exists(blob_id):
                    self.delete(blob_id)
        return report
