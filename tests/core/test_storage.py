import base64
import hashlib
import io
import os
import stat
import struct
import time

import pytest

from core import storage
from core.storage import (
    DEFAULT_CHUNK_SIZE,
    BlobCorrupt,
    BlobMissing,
    BlobStore,
    BlobTooLarge,
    StorageError,
    load_master_key,
)

CHUNK = DEFAULT_CHUNK_SIZE
HEADER = storage._HEADER.size
RECORD = CHUNK + 16


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv(storage.MASTER_KEY_ENV, raising=False)


@pytest.fixture
def key():
    return os.urandom(32)


@pytest.fixture
def store(tmp_path, key):
    return BlobStore(tmp_path / "blobs", key)


def put_bytes(store, data, **kw):
    return store.put(io.BytesIO(data), **kw)


def blob_path(store, blob_id):
    return store.root / blob_id[:2] / blob_id[2:4] / blob_id


def all_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def age(path, seconds=7200):
    t = time.time() - seconds
    os.utime(path, (t, t))


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize(
    "size",
    [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 200 * 1024 + 17],
)
def test_round_trip(store, size):
    data = os.urandom(size)
    blob = put_bytes(store, data)
    assert blob.size == size
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    assert len(blob.blob_id) == 32 and int(blob.blob_id, 16) >= 0
    assert store.exists(blob.blob_id)
    assert store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256) == data
    chunks = list(store.open(blob.blob_id, blob.wrapped_key, blob.sha256))
    assert all(len(c) <= CHUNK for c in chunks)
    assert all(chunks)  # no empty chunk is yielded


def test_ciphertext_hides_plaintext_and_keys_differ(store):
    data = b"Compte rendu IRM: rien a signaler. " * 100
    a = put_bytes(store, data)
    b = put_bytes(store, data)
    raw = blob_path(store, a.blob_id).read_bytes()
    assert b"Compte rendu" not in raw
    assert a.blob_id != b.blob_id
    assert a.wrapped_key != b.wrapped_key
    assert raw != blob_path(store, b.blob_id).read_bytes()
    assert a.sha256 == b.sha256


def test_sharded_generated_path_and_no_temp_left(store):
    blob = put_bytes(store, b"hello")
    path = blob_path(store, blob.blob_id)
    assert path.is_file()
    assert list(store.iter_blob_ids()) == [blob.blob_id]
    assert list(store.iter_temp_files()) == []
    assert all_files(store.root) == [path]


def test_put_fsyncs_file_and_directory_before_returning(store, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(f"fsync-{kind}")
        return real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        return real_replace(src, dst)

    monkeypatch.setattr(storage.os, "fsync", fsync)
    monkeypatch.setattr(storage.os, "replace", replace)
    put_bytes(store, b"x" * 10)
    i = events.index("replace")
    assert "fsync-file" in events[:i]
    assert events[i + 1 :] == ["fsync-dir"]


# ------------------------------------------------------------------ tampering


def test_wrong_master_key(tmp_path, store):
    blob = put_bytes(store, b"secret")
    other = BlobStore(store.root, os.urandom(32))
    with pytest.raises(BlobCorrupt):
        other.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)


def test_wrapped_key_of_another_blob(store):
    a = put_bytes(store, b"a" * 100)
    b = put_bytes(store, b"a" * 100)
    with pytest.raises(BlobCorrupt):
        store.read_all(a.blob_id, b.wrapped_key, a.sha256)


@pytest.mark.parametrize("offset", [0, 4, HEADER, HEADER + 5, HEADER + RECORD + 3, -1])
def test_flipped_byte(store, offset):
    data = os.urandom(2 * CHUNK + 50)
    blob = put_bytes(store, data)
    path = blob_path(store, blob.blob_id)
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(BlobCorrupt):
        store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)


def test_flipped_byte_in_wrapped_key(store):
    blob = put_bytes(store, b"data")
    wk = bytearray(blob.wrapped_key)
    wk[5] ^= 0x80
    with pytest.raises(BlobCorrupt):
        store.read_all(blob.blob_id, bytes(wk), blob.sha256)


def test_truncated_last_chunk_dropped(store):
    data = os.urandom(3 * CHUNK + 10)
    blob = put_bytes(store, data)
    path = blob_path(store, blob.blob_id)
    raw = path.read_bytes()
    path.write_bytes(raw[: HEADER + 3 * RECORD])  # exactly at a chunk boundary
    with pytest.raises(BlobCorrupt):
        store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)


def test_truncation_detected_by_the_chunk_format_itself(store):
    # Even with the hash of the shortened plaintext, dropping the last chunk is caught:
    # the last-chunk flag is authenticated.
    data = os.urandom(3 * CHUNK + 10)
    blob = put_bytes(store, data)
    path = blob_path(store, blob.blob_id)
    path.write_bytes(path.read_bytes()[: HEADER + 3 * RECORD])
    prefix_sha = hashlib.sha256(data[: 3 * CHUNK]).hexdigest()
    with pytest.raises(BlobCorrupt, match="authentication"):
        store.read_all(blob.blob_id, blob.wrapped_key, prefix_sha)


def test_truncated_mid_chunk_and_header_only(store):
    blob = put_bytes(store, os.urandom(CHUNK + 10))
    path = blob_path(store, blob.blob_id)
    raw = path.read_bytes()
    for cut in (len(raw) - 1, HEADER + 100, HEADER + 3, HEADER, 3, 0):
        path.write_bytes(raw[:cut])
        with pytest.raises(BlobCorrupt):
            store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)


def test_extended_file(store):
    data = os.urandom(2 * CHUNK)
    blob = put_bytes(store, data)
    path = blob_path(store, blob.blob_id)
    raw = path.read_bytes()
    # append a copy of the last record: the true last chunk is no longer last
    path.write_bytes(raw + raw[-RECORD:])
    with pytest.raises(BlobCorrupt):
        store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)


def test_swapped_chunks(store):
    data = os.urandom(3 * CHUNK + 10)
    blob = put_bytes(store, data)
    path = blob_path(store, blob.blob_id)
    raw = path.read_bytes()
    head, body = raw[:HEADER], raw[HEADER:]
    r0, r1, rest = body[:RECORD], body[RECORD : 2 * RECORD], body[2 * RECORD :]
    path.write_bytes(head + r1 + r0 + rest)
    with pytest.raises(BlobCorrupt):
        store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)


def test_chunk_from_another_blob_with_same_key_material_is_rejected(store):
    # Moving a blob file under another id is detected (the id is authenticated).
    blob = put_bytes(store, b"abc")
    other_id = "f" * 32
    target = blob_path(store, other_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(blob_path(store, blob.blob_id).read_bytes())
    with pytest.raises(BlobCorrupt):
        store.read_all(other_id, blob.wrapped_key, blob.sha256)


def test_sha_mismatch_is_raised_before_last_chunk(store):
    data = os.urandom(2 * CHUNK + 10)
    blob = put_bytes(store, data)
    wrong = hashlib.sha256(b"something else").hexdigest()
    received = []
    with pytest.raises(BlobCorrupt):
        for chunk in store.open(blob.blob_id, blob.wrapped_key, wrong):
            received.append(chunk)
    assert b"".join(received) == data[: 2 * CHUNK]  # the final bytes were never delivered


def test_sha_mismatch_single_chunk_delivers_nothing(store):
    blob = put_bytes(store, b"short document")
    with pytest.raises(BlobCorrupt):
        list(store.open(blob.blob_id, blob.wrapped_key, "0" * 64))


def test_invalid_sha_format(store):
    blob = put_bytes(store, b"x")
    with pytest.raises(BlobCorrupt):
        store.open(blob.blob_id, blob.wrapped_key, "not-a-hash")


def test_open_checks_eagerly(store):
    blob = put_bytes(store, b"x")
    with pytest.raises(BlobMissing):
        store.open("a" * 32, blob.wrapped_key, blob.sha256)  # raises before iteration
    with pytest.raises(BlobCorrupt):
        store.open(blob.blob_id, b"\x01" + b"\x00" * 40, blob.sha256)


def test_missing_blob_is_corrupt_subclass(store):
    blob = put_bytes(store, b"x")
    store.delete(blob.blob_id)
    assert not store.exists(blob.blob_id)
    with pytest.raises(BlobCorrupt):
        store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)
    store.delete(blob.blob_id)  # idempotent


def test_header_chunk_size_tampered(store):
    blob = put_bytes(store, b"x" * 1000)
    path = blob_path(store, blob.blob_id)
    raw = bytearray(path.read_bytes())
    raw[5:9] = struct.pack(">I", 2**31)  # absurd chunk size must not be trusted
    path.write_bytes(bytes(raw))
    with pytest.raises(BlobCorrupt):
        store.read_all(blob.blob_id, blob.wrapped_key, blob.sha256)


# ------------------------------------------------------------------ size limit


def test_max_size_exceeded_leaves_nothing(store):
    with pytest.raises(BlobTooLarge):
        put_bytes(store, os.urandom(3 * CHUNK), max_size=2 * CHUNK + 5)
    assert all_files(store.root) == []
    assert list(store.iter_blob_ids()) == []
    assert list(store.iter_temp_files()) == []


def test_max_size_exact_is_accepted(store):
    blob = put_bytes(store, b"a" * 1000, max_size=1000)
    assert blob.size == 1000
    with pytest.raises(BlobTooLarge):
        put_bytes(store, b"a" * 1001, max_size=1000)
    assert list(store.iter_blob_ids()) == [blob.blob_id]


def test_max_size_stops_reading_early(store):
    stream = ChunkedStream(100 * CHUNK)
    with pytest.raises(BlobTooLarge):
        store.put(stream, max_size=CHUNK)
    assert stream.served <= 3 * CHUNK


def test_stream_error_leaves_nothing(store):
    class Broken(io.RawIOBase):
        calls = 0

        def readable(self):
            return True

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("client went away")
            return b"x" * n

    with pytest.raises(OSError, match="client went away"):
        store.put(Broken())
    assert all_files(store.root) == []


# ------------------------------------------------------------------ memory


class ChunkedStream:
    """A 'huge' upload generated on the fly; records how it is read."""

    def __init__(self, total, short_reads=False):
        self.total = total
        self.served = 0
        self.sizes = []
        self.short_reads = short_reads
        self.digest = hashlib.sha256()

    def read(self, n=-1):
        self.sizes.append(n)
        if n is None or n < 0 or n > CHUNK:
            raise AssertionError(f"read({n!r}) would load too much at once")
        if self.short_reads:
            n = min(n, 1000)  # like a socket: fewer bytes than asked
        n = min(n, self.total - self.served)
        block = bytes((self.served + i) % 251 for i in range(min(n, 251)))
        data = (block * (n // 251 + 1))[:n] if n else b""
        self.served += n
        self.digest.update(data)
        return data


def test_put_streams_20mb_in_chunks(store):
    total = 20 * 1024 * 1024 + 3
    stream = ChunkedStream(total)
    blob = store.put(stream, max_size=25 * 1024 * 1024)
    assert blob.size == total
    assert blob.sha256 == stream.digest.hexdigest()
    assert max(stream.sizes) <= CHUNK
    assert all(s is not None and s >= 0 for s in stream.sizes)
    size = 0
    digest = hashlib.sha256()
    for chunk in store.open(blob.blob_id, blob.wrapped_key, blob.sha256):
        assert len(chunk) <= CHUNK
        size += len(chunk)
        digest.update(chunk)
    assert size == total and digest.hexdigest() == blob.sha256


def test_put_handles_short_reads(store):
    stream = ChunkedStream(3 * CHUNK + 7, short_reads=True)
    blob = store.put(stream)
    assert blob.size == 3 * CHUNK + 7
    assert blob.sha256 == stream.digest.hexdigest()
    # chunk layout is independent of how the source delivered bytes
    raw_size = blob_path(store, blob.blob_id).stat().st_size
    assert raw_size == HEADER + 4 * 16 + 3 * CHUNK + 7


# ------------------------------------------------------------------ check / orphans


def test_check_reports_ok_corrupt_missing(store):
    good = put_bytes(store, b"good")
    bad = put_bytes(store, b"bad" * 100)
    gone = put_bytes(store, b"gone")
    path = blob_path(store, bad.blob_id)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))
    blob_path(store, gone.blob_id).unlink()
    known = {b.blob_id: (b.wrapped_key, b.sha256) for b in (good, bad, gone)}
    report = store.check(known)
    assert report.ok == 1
    assert report.corrupt == [bad.blob_id]
    assert report.missing == [gone.blob_id]
    assert report.orphans == [] and not report.healthy


def test_crash_between_put_and_commit_leaves_orphan_removed_by_check(store):
    committed = put_bytes(store, b"committed document")
    crashed = put_bytes(store, b"upload whose row was never committed")  # then 'forgotten'
    known = {committed.blob_id: (committed.wrapped_key, committed.sha256)}
    age(blob_path(store, crashed.blob_id))

    report = store.check(known)
    assert report.ok == 1
    assert report.orphans == [crashed.blob_id]
    assert store.exists(crashed.blob_id)  # only reported

    report = store.check(known, remove_orphans=True)
    assert report.removed_orphans == [crashed.blob_id]
    assert not store.exists(crashed.blob_id)
    assert store.exists(committed.blob_id)
    assert store.check(known).clean


def test_fresh_unknown_blob_is_not_removed(store):
    # An upload between put() and its commit must survive a concurrent check.
    in_flight = put_bytes(store, b"uploading")
    report = store.check({}, remove_orphans=True)
    assert report.recent_unknown == [in_flight.blob_id]
    assert report.orphans == [] and report.removed_orphans == []
    assert store.exists(in_flight.blob_id)
    report = store.check({}, remove_orphans=True, grace_seconds=0)
    assert report.removed_orphans == [in_flight.blob_id]


def test_stale_temp_file_reported_and_removed(store):
    blob = put_bytes(store, b"x")
    shard = blob_path(store, blob.blob_id).parent
    stale = shard / ".tmp-crashed123"
    stale.write_bytes(b"partial ciphertext")
    age(stale)
    fresh = shard / ".tmp-writing456"
    fresh.write_bytes(b"being written")

    assert sorted(store.iter_temp_files()) == sorted([stale, fresh])
    assert list(store.iter_blob_ids()) == [blob.blob_id]  # temp files are not blobs

    known = {blob.blob_id: (blob.wrapped_key, blob.sha256)}
    report = store.check(known)
    assert report.temp_files == [stale] and stale.exists()
    report = store.check(known, remove_orphans=True)
    assert report.removed_temp_files == [stale]
    assert not stale.exists() and fresh.exists()


def test_foreign_files_ignored(store):
    (store.root / "README").write_text("hello")
    (store.root / "zz").mkdir()
    (store.root / "zz" / "x").write_text("x")
    assert list(store.iter_blob_ids()) == []


# ------------------------------------------------------------------ ids


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "../" + "a" * 29,
        "A" * 32,
        "a" * 31,
        "a" * 33,
        "g" * 32,
        "",
        "/" + "a" * 31,
        "a" * 31 + "\n",
        None,
    ],
)
def test_invalid_blob_id_rejected(store, bad):
    for call in (
        lambda: store.exists(bad),
        lambda: store.delete(bad),
        lambda: store.open(bad, b"k", "0" * 64),
    ):
        with pytest.raises(StorageError):
            call()


# ------------------------------------------------------------------ master key


def test_master_key_generated_0600_and_reused(tmp_path):
    instance = tmp_path / "instance"
    k1 = load_master_key(instance)
    key_file = instance / "keys" / "master.key"
    assert len(k1) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((instance / "keys").stat().st_mode) == 0o700
    assert load_master_key(instance) == k1
    assert list((instance / "keys").iterdir()) == [key_file]  # no temp file left

    store = BlobStore.from_instance(instance)
    assert store.root == instance / "blobs"
    blob = put_bytes(store, b"persisted")
    again = BlobStore.from_instance(instance)
    assert again.read_all(blob.blob_id, blob.wrapped_key, blob.sha256) == b"persisted"


def test_master_key_file_readable_by_others_refused(tmp_path):
    load_master_key(tmp_path)
    os.chmod(tmp_path / "keys" / "master.key", 0o644)
    with pytest.raises(StorageError):
        load_master_key(tmp_path)


def test_master_key_env_override(tmp_path, monkeypatch):
    key = os.urandom(32)
    monkeypatch.setenv(storage.MASTER_KEY_ENV, base64.urlsafe_b64encode(key).decode().rstrip("="))
    assert load_master_key(tmp_path) == key
    assert not (tmp_path / "keys" / "master.key").exists()
    monkeypatch.setenv(storage.MASTER_KEY_ENV, base64.urlsafe_b64encode(key).decode())  # padded
    assert load_master_key(tmp_path) == key


@pytest.mark.parametrize("value", ["too-short", base64.urlsafe_b64encode(b"x" * 31).decode(), "!!!!"])
def test_master_key_env_invalid(tmp_path, monkeypatch, value):
    monkeypatch.setenv(storage.MASTER_KEY_ENV, value)
    with pytest.raises(StorageError):
        load_master_key(tmp_path)


def test_store_rejects_bad_master_key(tmp_path):
    with pytest.raises(StorageError):
        BlobStore(tmp_path, b"short")


def test_repr_does_not_leak_key(store, key):
    assert key.hex() not in repr(store)


# --------------------------------------------------------------------------- seekable reads


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_seekable_reads_any_range(store, size):
    data = os.urandom(size)
    blob = store.put(io.BytesIO(data))
    reader = store.open_seekable(blob.blob_id, blob.wrapped_key)
    assert reader.seekable() and reader.size == size and reader.read() == data
    for start, length in [(0, 10), (size // 2, CHUNK + 5), (max(0, size - 3), 10), (size, 4), (size + 9, 1)]:
        reader.seek(start)
        assert reader.read(length) == data[start : start + length]  # whole reads across chunk edges
    if size >= 5:
        assert reader.seek(-5, io.SEEK_END) == size - 5 and reader.read() == data[-5:]
    reader.close()


def test_seekable_opens_a_stored_zip(store):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a/export.xml", os.urandom(CHUNK) * 3)  # the directory sits in the last chunk
    blob = store.put(io.BytesIO(out.getvalue()))
    with zipfile.ZipFile(store.open_seekable(blob.blob_id, blob.wrapped_key)) as z:
        assert z.read("a/export.xml") == zipfile.ZipFile(out).read("a/export.xml")


def _records(store, blob):
    path = store._path(blob.blob_id)
    raw = path.read_bytes()
    return path, raw[:HEADER], [raw[i : i + RECORD] for i in range(HEADER, len(raw), RECORD)]


@pytest.mark.parametrize("damage", ["flip", "swap", "drop_last", "extend"])
def test_seekable_reads_refuse_tampered_chunks(store, damage):
    data = os.urandom(3 * CHUNK + 100)
    blob = store.put(io.BytesIO(data))
    path, header, records = _records(store, blob)
    if damage == "flip":
        records[1] = records[1][:10] + bytes([records[1][10] ^ 1]) + records[1][11:]
    elif damage == "swap":
        records[0], records[1] = records[1], records[0]
    elif damage == "drop_last":
        records.pop()
    else:
        records.append(records[-1])
    path.write_bytes(header + b"".join(records))
    reader = store.open_seekable(blob.blob_id, blob.wrapped_key)
    with pytest.raises(BlobCorrupt):
        reader.read()


def test_seekable_checks_the_key_and_the_file_eagerly(store, tmp_path):
    blob = store.put(io.BytesIO(b"x" * 100))
    other = BlobStore(tmp_path / "other", os.urandom(32))
    with pytest.raises(BlobCorrupt):
        other.open_seekable(blob.blob_id, blob.wrapped_key)
    with pytest.raises(BlobMissing):
        store.open_seekable("0" * 32, blob.wrapped_key)
    store._path(blob.blob_id).write_bytes(b"CRNB")
    with pytest.raises(BlobCorrupt):
        store.open_seekable(blob.blob_id, blob.wrapped_key)


def test_fresh_temp_files_are_reported_with_their_age_and_size(store):
    blob = put_bytes(store, b"x")
    fresh = blob_path(store, blob.blob_id).parent / ".tmp-writing789"
    fresh.write_bytes(b"p" * 1000)
    report = store.check({blob.blob_id: (blob.wrapped_key, blob.sha256)}, remove_orphans=True)
    assert report.recent_temp_files == [fresh] and report.temp_files == [] and fresh.exists()
    assert report.sizes[fresh] == 1000 and 0 <= report.ages[fresh] < 60


def test_a_deletion_during_a_backup_waits_for_its_end(store):
    kept, gone = put_bytes(store, b"kept"), put_bytes(store, b"gone")
    with store.backup_hold():
        store.delete(gone.blob_id)
        assert store.exists(gone.blob_id) and store.deferred_deletions() == [gone.blob_id]
        # a check meanwhile sees a deleted file: an orphan whatever its age
        report = store.check({kept.blob_id: (kept.wrapped_key, kept.sha256)})
        assert report.orphans == [gone.blob_id] and report.recent_unknown == []
    assert not store.exists(gone.blob_id) and store.deferred_deletions() == []
    assert store.exists(kept.blob_id)
    store.delete(kept.blob_id)  # no backup: at once
    assert not store.exists(kept.blob_id)


def test_a_deletion_that_meets_a_backup_as_it_ends_leaves_nothing_behind(store, monkeypatch):
    """A deletion whose marker is written just after the backup's purge looked, while the backup
    still holds the lock: its second look fails too, so the backup's purge must come after the
    lock is released to see that marker."""
    late = put_bytes(store, b"late")
    purge = store._purge_deferred
    meets = []

    def purge_then_a_deletion():
        purge()
        if not meets:
            meets.append(late.blob_id)
            store.delete(late.blob_id)

    monkeypatch.setattr(store, "_purge_deferred", purge_then_a_deletion)
    with store.backup_hold():
        pass
    assert meets == [late.blob_id]
    assert not store.exists(late.blob_id) and store.deferred_deletions() == []


def test_delete_stays_idempotent_when_the_store_folder_is_gone(store):
    import shutil

    blob = put_bytes(store, b"x")
    shutil.rmtree(store.root)
    store.delete(blob.blob_id)  # nothing to remove, nothing to raise
    assert not store.exists(blob.blob_id)
