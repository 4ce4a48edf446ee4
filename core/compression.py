"""Compressed answers (brotli, else gzip) for text: pages, fragments, CSS, JS, JSON, SVG.

Flask-Compress does the encoding, the `Vary: Accept-Encoding` header and the ETag suffix; this
module decides which answers it may touch:

- only GET and HEAD: an answer to a POST (a form sent back with its errors, a password
  confirmation) is never compressed;
- only requests the browser says were started by this site or by the person (Fetch Metadata
  `Sec-Fetch-Site: same-origin` or `none`, or no such header from a non-browser client). A page
  that holds a secret (the CSRF token) next to text the request chose (a search word) is the
  shape BREACH needs; its attacker has to make the victim's browser send many requests from
  another site, and those arrive `cross-site` or `same-site`: they get the plain answer, so
  its length reveals nothing;
- never a partial (Range) answer, an answer of less than 500 bytes, or a stream (CSV exports
  keep streaming).

Static files are compressed once per file version and kept in memory (they are few and small);
nothing else is ever cached.
"""

from __future__ import annotations

import gzip
import os

import brotli
from flask import Flask, current_app, request
from flask_compress import Compress

MIMETYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "application/manifest+json",
    "text/plain",
]
ALLOWED_SITES = {"same-origin", "none", None}


class _StaticOnly:
    """Flask-Compress's cache, used for static files only: every other key misses and is
    never stored (a page must never be served to anyone from a cache). A static file is
    compressed here, once per version, at the highest level (brotli 11, gzip 9): pages are
    compressed on every answer at COMPRESS_BR_LEVEL, a cheaper level."""

    PREFIX = "static\0"

    def __init__(self):
        self._data: dict[str, bytes] = {}

    def get(self, key: str):
        if self.PREFIX not in key:
            return None
        found = self._data.get(key)
        if found is None:
            found = _compress_static(key)
            if found is not None:
                self.set(key, found)
        return found

    def set(self, key: str, value: bytes) -> None:
        if self.PREFIX in key and len(self._data) < 256:
            self._data[key] = value


def _compress_static(key: str) -> bytes | None:
    """The file a key of _cache_key() names, compressed at the highest level of its algorithm;
    None if it changed or went away meanwhile (Flask-Compress then compresses the answer)."""
    algorithm, _, rest = key.partition(";")
    _prefix, name, mtime, size = rest.split("\0")
    path = os.path.join(current_app.static_folder or "", name)
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if f"{st.st_mtime_ns}" != mtime or f"{st.st_size}" != size:
                return None
            data = f.read()
    except OSError:
        return None
    if algorithm == "br":
        return brotli.compress(data, mode=brotli.MODE_TEXT, quality=11)
    if algorithm == "gzip":
        return gzip.compress(data, 9, mtime=0)
    return None


def _cache_key(req) -> str:
    """Static files: path and version (modification time and size); anything else: no key."""
    if req.endpoint != "static":
        return "no-cache"
    name = (req.view_args or {}).get("filename", "")
    path = os.path.join(current_app.static_folder or "", name)
    try:
        st = os.stat(path)
    except OSError:
        return "no-cache"
    return f"{_StaticOnly.PREFIX}{name}\0{st.st_mtime_ns}\0{st.st_size}"


def may_compress(response) -> bool:
    if response.status_code != 200 or response.mimetype not in current_app.config["COMPRESS_MIMETYPES"]:
        return False  # first: an image (a thumbnail, a page) is never compressed, whatever was asked
    length = response.content_length
    if length is not None and length < current_app.config["COMPRESS_MIN_SIZE"]:
        return False  # Flask-Compress would leave it as it is too (a poll's count, a JSON status)
    environ = request.environ  # not `in request.headers`: a missing header builds a BadRequestKeyError
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or "HTTP_RANGE" in environ:
        return False
    if environ.get("HTTP_SEC_FETCH_SITE") not in ALLOWED_SITES:
        return False
    if request.endpoint == "static" and response.is_streamed:
        # send_file streams the file; ours are small: read it so it can be compressed
        response.direct_passthrough = False
        response.make_sequence()
    return not response.is_streamed


def _after_request(response):
    """Every answer varies on Accept-Encoding, compressed or not (core.http.finish). A static
    file is the only compressed answer with an ETag (Flask-Compress suffixes it with the
    encoding): its If-None-Match is evaluated here, after the suffix; a page has none to
    compare (Flask-Compress's own evaluation is off: it only stamped a Date on every page)."""
    if not may_compress(response):
        return response
    response = current_app.extensions["carnet.compress"].after_request(response)
    if request.endpoint == "static":
        response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    """Register before every other after_request hook: Flask runs them in reverse order, so
    compression sees the final body and headers."""
    app.config.setdefault("COMPRESS_REGISTER", False)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    app.config.setdefault("COMPRESS_BR_LEVEL", 1)  # pages: docs/performance.md, 38
    app.config.setdefault("COMPRESS_LEVEL", 6)
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config.setdefault("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", False)  # static files: _after_request
    app.config.setdefault("COMPRESS_CACHE_KEY", _cache_key)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", _StaticOnly)
    app.extensions["carnet.compress"] = Compress(app)
    app.after_request(_after_request)
