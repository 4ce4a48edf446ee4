"""Text answers travel compressed (brotli, else gzip) when the browser asks, never for a POST
or a request another site started (BREACH), and always with `Vary: Accept-Encoding`."""

from __future__ import annotations

import gzip

import brotli
import pytest

from tests.helpers import csrf_token


def _vary(r) -> set[str]:
    return {v.strip().lower() for v in r.headers.get("Vary", "").split(",")}


@pytest.mark.parametrize(
    "encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress), ("gzip, deflate, br", brotli.decompress)]
)
def test_a_page_is_compressed_when_asked(client, encoding, decode):
    plain = client.get("/connexion", headers={"Accept-Encoding": "identity"})
    packed = client.get("/connexion", headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in plain.headers and "accept-encoding" in _vary(plain)
    assert packed.headers["Content-Encoding"] == ("br" if "br" in encoding else "gzip")
    assert "accept-encoding" in _vary(packed) and "hx-request" in _vary(packed)
    body = decode(packed.get_data())
    assert b'id="login-form"' in body and len(packed.get_data()) < len(body) / 2
    assert int(packed.headers["Content-Length"]) == len(packed.get_data())


def test_nothing_is_compressed_when_not_asked(client):
    for path in ("/connexion", "/static/css/app.css", "/static/js/app.js"):
        r = client.get(path)
        assert r.status_code == 200 and "Content-Encoding" not in r.headers, path
        assert "accept-encoding" in _vary(r), path


def test_static_files_are_compressed_with_their_own_validator(client):
    r = client.get("/static/css/app.css", headers={"Accept-Encoding": "br"})
    assert r.headers["Content-Encoding"] == "br" and r.headers["ETag"].endswith(':br"')
    assert brotli.decompress(r.get_data()).startswith(b"/*") or b"{" in brotli.decompress(r.get_data())
    again = client.get("/static/css/app.css", headers={"Accept-Encoding": "br", "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    plain = client.get("/static/css/app.css", headers={"If-None-Match": r.headers["ETag"].replace(':br"', '"')})
    assert plain.status_code == 304  # not compressed: send_file's own evaluation
    # the same file asked again (from the in-memory copy) is the same bytes
    assert client.get("/static/css/app.css", headers={"Accept-Encoding": "br"}).get_data() == r.get_data()
    part = client.get("/static/css/app.css", headers={"Accept-Encoding": "br", "Range": "bytes=0-99"})
    assert part.status_code == 206 and "Content-Encoding" not in part.headers and len(part.get_data()) == 100


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_static_files_are_compressed_once_at_the_highest_level_pages_at_the_cheap_one(app, client, encoding):
    """A static file is compressed once per version at brotli 11 / gzip 9 (docs/performance.md,
    17) and is the file once decoded; a page, compressed on every answer, at COMPRESS_BR_LEVEL."""
    decode = brotli.decompress if encoding == "br" else gzip.decompress
    path = app.static_folder + "/css/app.css"
    original = open(path, "rb").read()
    r = client.get("/static/css/app.css", headers={"Accept-Encoding": encoding})
    assert r.headers["Content-Encoding"] == encoding and decode(r.get_data()) == original
    best = (
        brotli.compress(original, mode=brotli.MODE_TEXT, quality=11) if encoding == "br" else gzip.compress(original, 9)
    )
    assert len(r.get_data()) == len(best)
    page = client.get("/connexion", headers={"Accept-Encoding": "br"})
    body = brotli.decompress(page.get_data())
    level = app.config["COMPRESS_BR_LEVEL"]
    assert level < 11 and page.get_data() == brotli.compress(body, mode=brotli.MODE_TEXT, quality=level)
    # brotli 1: half of brotli 2's CPU on every page for about 5 % more bytes (docs/performance.md, 38)
    assert level == 1


def test_answers_to_posts_are_never_compressed(client, make_holder):
    token = csrf_token(client)
    r = client.post(
        "/connexion",
        data={"email": "nobody@example.fr", "password": "x" * 12, "csrf_token": token},
        headers={"Accept-Encoding": "br, gzip"},
    )
    assert r.status_code in (200, 422) and b"login-form" in r.get_data()
    assert "Content-Encoding" not in r.headers and "accept-encoding" in _vary(r)


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_requests_started_by_another_site_get_the_plain_answer(client, site):
    """A page holding the CSRF token next to a search word is what BREACH measures; its
    attacker's requests come from another site, so their length says nothing."""
    r = client.get("/connexion?next=/documents", headers={"Accept-Encoding": "br", "Sec-Fetch-Site": site})
    assert r.status_code == 200 and "Content-Encoding" not in r.headers
    ok = client.get("/connexion?next=/documents", headers={"Accept-Encoding": "br", "Sec-Fetch-Site": "same-origin"})
    assert ok.headers["Content-Encoding"] == "br"
    typed = client.get("/connexion", headers={"Accept-Encoding": "br", "Sec-Fetch-Site": "none"})
    assert typed.headers["Content-Encoding"] == "br"


def test_a_logged_in_page_is_compressed_and_stays_private(app, client, make_holder, login_as):
    account, _ = make_holder()
    login_as(client, account)
    r = client.get("/documents", headers={"Accept-Encoding": "br"})
    assert r.headers["Content-Encoding"] == "br" and r.headers["Cache-Control"] == "no-store"
    assert b"<html" in brotli.decompress(r.get_data())


def test_a_compressed_page_is_not_evaluated_as_a_conditional_request(client):
    """Only a static file has an ETag to compare; a page was given a Date header by the
    evaluation and nothing else (docs/performance.md, 41): the server writes the Date."""
    page = client.get("/connexion", headers={"Accept-Encoding": "br", "If-None-Match": "*"})
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "br"
    assert "ETag" not in page.headers and "Date" not in page.headers
