"""The morning peak's phone asks for pages as Chromium does (compressed, from the site's own
page), so the server compresses them as it would for a person, and the benchmark reads them
decoded."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import threading
from pathlib import Path

import brotli
import pytest
from werkzeug.serving import make_server

from benchmarks import instance, peak


@pytest.mark.parametrize(
    "encoding, pack",
    [(None, lambda b: b), ("br", brotli.compress), ("gzip", gzip.compress), ("BR ", brotli.compress)],
)
def test_a_body_is_read_as_its_encoding_says(encoding, pack):
    page = b"<html>" + b"mesures " * 200 + b"</html>"
    assert instance.decoded(pack(page), encoding or "") == page


def test_an_encoding_the_client_did_not_ask_for_is_an_error():
    with pytest.raises(http.client.HTTPException, match="zstd"):
        instance.decoded(b"\x28\xb5\x2f\xfd", "zstd")


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


def _one_answer(raw: bytes, seen: list) -> tuple[str, int, threading.Thread]:
    """A server that reads one request, writes `raw` in small pieces, then closes. A client
    may close first once it has read its answer's length: bytes past it then meet a closed socket."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            seen.append(request)
            try:
                for at in range(0, len(raw), 7):  # as a busy network hands it over
                    conn.sendall(raw[at : at + 7])
            except (BrokenPipeError, ConnectionResetError):
                pass  # a client that has read its whole answer may close before the bytes past it
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return "127.0.0.1", listener.getsockname()[1], thread


PAGE = b"<html>" + b"mesures " * 300 + b"</html>"


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: %d\r\n\r\n" % len(brotli.compress(PAGE)) + brotli.compress(PAGE) + b"left over",
        b"Transfer-Encoding: chunked\r\n\r\n"
        + b"".join(
            b"%x;ext=1\r\n%s\r\n" % (len(part), part)
            for part in (brotli.compress(PAGE)[:50], brotli.compress(PAGE)[50:])
        )
        + b"0\r\nX-Trailer: 1\r\n\r\n",
        b"\r\n" + brotli.compress(PAGE),  # neither: to the end of the connection
    ],
    ids=["length", "chunked", "to-the-end"],
)
def test_the_clients_wire_reads_an_answer_however_it_is_framed(framing):
    """The load generator's own reading of HTTP/1.1 (instance.exchange): the status, repeated
    headers kept in order, the body by its length, its chunks or to the end; the cookies kept
    and dropped as a browser keeps them; the request as http.client wrote it."""
    raw = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nSet-Cookie: carnet_session=abc; HttpOnly; Path=/\r\n"
        b"Set-Cookie: carnet_kiosk=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/\r\n" + framing
    )
    seen = []
    host, port, thread = _one_answer(raw, seen)
    browser = instance.Browser(f"http://{host}:{port}")
    browser.cookies["carnet_kiosk"] = "k1"
    status, headers, data = browser.request("POST", "/documents", {"title": "Compte rendu"})
    thread.join()
    assert status == 200 and data == PAGE and headers["content-encoding"] == "br"
    assert browser.cookies == {"carnet_session": "abc"}
    request = seen[0].decode()
    assert request.startswith(f"POST /documents HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n")
    assert "Cookie: carnet_kiosk=k1\r\n" in request and request.endswith("Content-Length: 18\r\n\r\ntitle=Compte+rendu")


def test_the_clients_wire_says_when_an_answer_is_cut_short():
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + b"x" * 20
    host, port, thread = _one_answer(raw, [])
    with pytest.raises(http.client.IncompleteRead):
        instance.Browser(f"http://{host}:{port}").request("GET", "/")
    thread.join()
