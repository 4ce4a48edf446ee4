"""Downloads answer HTTP Range requests (a phone resuming a large scan), with the same guarded
headers as a whole download: attachment, no-store, nosniff, sandbox."""

from __future__ import annotations

from tests.samples import pdf_bytes

# A text file over several of the store's 64 KiB chunks, every byte telling its place.
CONTENT = b"".join(b"%07d\n" % i for i in range(40_000))  # 320,000 bytes


def _add(client, upload, content, name):
    r = upload(client, [(content, name)])
    assert r.status_code == 303, r.get_data(as_text=True)[:800]
    return r.headers["Location"].rsplit("/", 1)[-1]


def _guarded(r, kind="attachment"):
    assert r.headers["Content-Disposition"].startswith(kind + ";")
    assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"].startswith("sandbox;")


def test_a_range_gets_its_bytes_and_a_wrong_range_416(holder, upload):
    client, _ = holder
    doc_id = _add(client, upload, CONTENT, "ordonnance.txt")
    url = f"/documents/{doc_id}/telecharger"

    whole = client.get(url)
    assert whole.status_code == 200 and whole.data == CONTENT and whole.headers["Accept-Ranges"] == "bytes"
    _guarded(whole)

    first = client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.data == CONTENT[:100]
    assert first.headers["Content-Range"] == f"bytes 0-99/{len(CONTENT)}" and first.content_length == 100
    _guarded(first)

    across = client.get(url, headers={"Range": "bytes=65530-131080"})  # over two chunk boundaries
    assert across.status_code == 206 and across.data == CONTENT[65530:131081]
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == CONTENT[-10:]

    wrong = client.get(url, headers={"Range": f"bytes={len(CONTENT)}-{len(CONTENT) + 10}"})
    assert wrong.status_code == 416 and wrong.headers["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert CONTENT[:100] not in wrong.data


def test_a_resumed_download_continues_the_same_file_only(holder, upload):
    client, _ = holder
    doc_id = _add(client, upload, CONTENT, "ordonnance.txt")
    url = f"/documents/{doc_id}/telecharger"
    etag = client.get(url).headers["ETag"]
    same = client.get(url, headers={"Range": "bytes=100-199", "If-Range": etag})
    assert same.status_code == 206 and same.data == CONTENT[100:200]
    other = client.get(url, headers={"Range": "bytes=100-199", "If-Range": '"another-file"'})
    assert other.status_code == 200 and other.data == CONTENT


def test_a_preview_and_a_pdf_download_take_ranges_too(holder, upload):
    client, _ = holder
    text_id = _add(client, upload, CONTENT, "ordonnance.txt")
    part = client.get(f"/documents/{text_id}/apercu", headers={"Range": "bytes=8-15"})
    assert part.status_code == 206 and part.data == CONTENT[8:16]
    _guarded(part, "inline")
    pdf = pdf_bytes()
    pdf_id = _add(client, upload, pdf, "bilan.pdf")
    head = client.get(f"/documents/{pdf_id}/telecharger", headers={"Range": "bytes=0-4"})
    assert head.status_code == 206 and head.data == b"%PDF-" and head.mimetype == "application/pdf"
    _guarded(head)
