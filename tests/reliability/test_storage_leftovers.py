"""What processes killed mid-upload leave on disk (a partial temp file, a file whose row never
committed) is reported by `storage check` at once, with its age and size, and removed by
`--remove-orphans` once older than the grace, which is tied to the request timeout (not an hour)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

from core import blobs
from core.storage import BlobStore
from tests.helpers import ROOT

# Writes blobs with the app's store: a slow upload (killed mid-write) or a finished put()
# whose row is never committed (killed before the commit).
CHILD = textwrap.dedent("""
    import sys, time
    from core.storage import BlobStore
    instance, mode = sys.argv[1], sys.argv[2]
    store = BlobStore.from_instance(instance)

    class Slow:
        sent = 0
        def read(self, n=-1):
            self.sent += 1
            if self.sent == 40:
                print("writing", flush=True)
                time.sleep(60)
            return b"x" * 65536

    if mode == "partial":
        store.put(Slow())
    else:
        import io
        blob = store.put(io.BytesIO(b"y" * 100_000))
        print("stored", blob.blob_id, flush=True)
        time.sleep(60)
""")


def _killed_after(instance: str, mode: str, word: str) -> str:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, instance, mode], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith(word), line
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    return line


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_leftovers_of_killed_uploads_are_reported_then_removed(app, fresh_store):
    with app.app_context():
        blobs.store()  # the store's folders and key, as the app makes them
    for _ in range(3):
        _killed_after(app.instance_path, "partial", "writing")
    orphans = [_killed_after(app.instance_path, "orphan", "stored").split()[1] for _ in range(2)]
    runner = app.test_cli_runner()

    fresh = runner.invoke(args=["storage", "check", "--remove-orphans"])
    assert fresh.exit_code == 0, fresh.output
    temps = [line for line in fresh.output.splitlines() if line.startswith("recent temp file")]
    assert len(temps) == 3 and all(re.search(r"\(age \d+ s, [12]\.\d MB\)$", t) for t in temps), temps
    for blob_id in orphans:
        assert f"recent unknown blob (maybe an upload in flight): {blob_id}" in fresh.output
    assert (
        "0 orphan blobs removed, 0 stale temp files removed, 2 recent unknown files and 3 recent temp files"
        in fresh.output
        and re.search(r"temp files hold [4-8]\.\d MB", fresh.output)
    )

    # Five minutes on: past any request timeout, no upload can still commit them.
    store = BlobStore.from_instance(app.instance_path)
    for path in list(store.iter_temp_files()) + [store.path_of(b) for b in orphans]:
        _age(path, 300)
    later = runner.invoke(args=["storage", "check", "--remove-orphans"])
    assert later.exit_code == 0, later.output
    assert "2 orphan blobs removed, 3 stale temp files removed" in later.output
    assert "(age 5 min" in later.output and ", removed)" in later.output
    assert list(store.iter_temp_files()) == [] and list(store.iter_blob_ids()) == []


def test_the_grace_follows_the_request_timeout(app, fresh_store):
    with app.app_context():
        store = blobs.store()
        blob_id = _killed_after(app.instance_path, "orphan", "stored").split()[1]
        _age(store.path_of(blob_id), 100)
        runner = app.test_cli_runner()
        assert "1 recent unknown files" in runner.invoke(args=["storage", "check"]).output  # 100 s < 2 × 60 s
        app.config["REQUEST_TIMEOUT_SECONDS"] = 30
        try:
            assert "1 orphan blobs found" in runner.invoke(args=["storage", "check"]).output
        finally:
            app.config["REQUEST_TIMEOUT_SECONDS"] = 60
