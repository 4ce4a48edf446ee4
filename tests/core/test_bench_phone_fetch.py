"""The morning peak's phone asks for pages as Chromium does (compressed, from the site's own
page), so the server compresses them as it would for a person, and the benchmark reads them
decoded."""

from __future__ import annotations

import gzip
import http.client
import io
import json
import threading
from pathlib import Path

import brotli
import pytest
from werkzeug.serving import make_server

from benchmarks import instance, peak


class _Socket:
    def __init__(self, raw: bytes):
        self.raw = raw

    def makefile(self, *_args, **_kwargs):
        return io.BytesIO(self.raw)


def _response(body: bytes, encoding: str | None) -> http.client.HTTPResponse:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)
    if encoding:
        head += b"Content-Encoding: %s\r\n" % encoding.encode()
    resp = http.client.HTTPResponse(_Socket(head + b"\r\n" + body))
    resp.begin()
    return resp


@pytest.mark.parametrize(
    "encoding, pack",
    [(None, lambda b: b), ("br", brotli.compress), ("gzip", gzip.compress), ("BR ", brotli.compress)],
)
def test_a_body_is_read_as_its_encoding_says(encoding, pack):
    page = b"<html>" + b"mesures " * 200 + b"</html>"
    assert instance.read_body(_response(pack(page), encoding)) == page


def test_an_encoding_the_client_did_not_ask_for_is_an_error():
    with pytest.raises(http.client.HTTPException, match="zstd"):
        instance.read_body(_response(b"\x28\xb5\x2f\xfd", "zstd"))


def test_the_peaks_phone_gets_compressed_pages_and_reads_them(app):
    server = make_server("localhost", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://localhost:{server.server_port}"
    try:
        user = peak.User(base, Path("."), peak.Stats(), peak.Pacer(None))
        headers, page = user.hit("login page", "GET", "/connexion")
        assert headers["content-encoding"] == "br"
        assert b'id="login-form"' in page and instance._csrf(page)
        # a body sent as it is (the passkey script's JSON), through the same request and cookie jar
        _, options = user.hit(
            "login: passkey options",
            "POST",
            "/connexion/passkey/options",
            body=b"{}",
            headers={"X-CSRFToken": instance._csrf(page), "Content-Type": "application/json", "Origin": base},
        )
        assert json.loads(options)["challenge"] and user.cookies[instance.COOKIE]
        # the benchmark's other clients ask for nothing: their pages come plain
        status, plain_headers, plain = instance.Browser(base).request("GET", "/connexion")
        assert status == 200 and "content-encoding" not in plain_headers and b'id="login-form"' in plain
    finally:
        server.shutdown()
        thread.join()
